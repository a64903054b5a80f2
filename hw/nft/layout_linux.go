package nft

import (
	"github.com/edgeward/edgeward/core/acl"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// Names of the chain and sets. They stay within 15 characters, the limit
// of old kernels.
const (
	chainName   = "pre"
	chainMeter  = "meter"
	setTrust4   = "trust4"
	setTrust6   = "trust6"
	setBan4     = "ban4"
	setBan6     = "ban6"
	setBanNet4  = "bannet4"
	setBanNet6  = "bannet6"
	setBanPort4 = "banport4"
	setBanPort6 = "banport6"
	setGrey4    = "grey4"
	setGrey6    = "grey6"
	setMeter4   = "meter4"
	setMeter6   = "meter6"
	setWGMeter4 = "wgmeter4"
	setWGMeter6 = "wgmeter6"
	setNoGrey4  = "nogrey4"
	setNoGrey6  = "nogrey6"
)

// MaxBans is the capacity of each ban set (ban4, ban6, banport4, banport6).
// A transaction that would go past it is refused whole by the kernel.
const MaxBans = 1 << 20

// Defaults for zero Ruleset fields.
const (
	defaultGreyTimeout = 10 * time.Minute
	defaultGreySize    = 65536
	meterTimeout       = time.Minute
)

// chainPriority runs the chain after defragmentation (-400) and before
// conntrack (-200): dropped packets never create conntrack entries, and one
// prerouting chain sees both router-bound and forwarded traffic.
const chainPriority nftables.ChainPriority = -310

// meterPriority runs chain meter just after conntrack (-200): only there
// does a packet carry its connection's state, and only a completed
// handshake proves a source is not spoofed.
const meterPriority nftables.ChainPriority = -190

// meteredMark is the conntrack mark bit chain meter sets on a connection
// it has counted, so each connection counts once, at its first
// established packet, however much it carries afterwards. Other bits of
// the mark are kept.
const meteredMark uint32 = 1 << 30

// Registers. Concatenated keys fill consecutive 32-bit registers: an IPv4
// source in NFT_REG32_00 puts the port in NFT_REG32_01, an IPv6 source
// (16 bytes) puts it in NFT_REG32_04.
const (
	regKey        = unix.NFT_REG_1
	regPortAfter4 = unix.NFT_REG32_01
	regPortAfter6 = unix.NFT_REG32_04
)

var (
	typeAddrPort4 = nftables.MustConcatSetType(nftables.TypeIPAddr, nftables.TypeInetService)
	typeAddrPort6 = nftables.MustConcatSetType(nftables.TypeIP6Addr, nftables.TypeInetService)
)

// anonSet is a constant set that lives and dies with the rule using it.
type anonSet struct {
	set   *nftables.Set
	elems []nftables.SetElement
}

// layout is everything of table inet edgeward except the elements of the
// named sets.
type layout struct {
	table *nftables.Table
	chain *nftables.Chain
	meter *nftables.Chain // nil without metering
	sets  map[string]*nftables.Set
	// elemSets are the sets of each element kind, IPv4 then IPv6: found
	// here, not by name, for every element of a bulk change.
	elemSets [acl.KindGrey + 1][2]*nftables.Set
	order    []*nftables.Set // named sets in creation order
	anons    []anonSet
	rules    []*nftables.Rule // of both chains
}

// settings are the Ruleset fields the layout depends on, defaults applied.
type settings struct {
	guardPorts  []uint16
	rate, burst uint32
	greyTimeout time.Duration
	greySize    uint32
}

// metered reports whether the auto-greylist rules are written.
func (s settings) metered() bool { return len(s.guardPorts) > 0 && s.rate > 0 }

func newLayout(s settings) *layout {
	t := &nftables.Table{Name: TableName, Family: nftables.TableFamilyINet}
	policy := nftables.ChainPolicyAccept
	l := &layout{
		table: t,
		chain: &nftables.Chain{Name: chainName, Table: t, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityRef(chainPriority), Policy: &policy},
		sets: map[string]*nftables.Set{},
	}
	if s.metered() {
		l.meter = &nftables.Chain{Name: chainMeter, Table: t, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookPrerouting, Priority: nftables.ChainPriorityRef(meterPriority), Policy: &policy}
	}
	l.addSets(s)
	for k, names := range map[acl.Kind][2]string{acl.KindBan: {setBan4, setBan6},
		acl.KindBanPort: {setBanPort4, setBanPort6}, acl.KindGrey: {setGrey4, setGrey6}} {
		l.elemSets[k] = [2]*nftables.Set{l.sets[names[0]], l.sets[names[1]]}
	}
	l.addRules(s)
	return l
}

// addSets declares the named sets. Every set gets an explicit batch ID:
// the library would otherwise draw one from an unguarded package counter.
func (l *layout) addSets(s settings) {
	add := func(set nftables.Set) {
		set.Table = l.table
		set.KeyByteOrder = binaryutil.BigEndian
		set.ID = uint32(len(l.order) + 1)
		l.sets[set.Name] = &set
		l.order = append(l.order, &set)
	}
	for _, v := range []struct {
		suffix string
		addr   nftables.SetDatatype
		port   nftables.SetDatatype
	}{{"4", nftables.TypeIPAddr, typeAddrPort4}, {"6", nftables.TypeIP6Addr, typeAddrPort6}} {
		add(nftables.Set{Name: "trust" + v.suffix, KeyType: v.addr, Interval: true})
		add(nftables.Set{Name: "ban" + v.suffix, KeyType: v.addr, HasTimeout: true, Size: MaxBans})
		// CIDR bans carry no timeout: the ACL expires them and replaces the set.
		add(nftables.Set{Name: "bannet" + v.suffix, KeyType: v.addr, Interval: true})
		add(nftables.Set{Name: "banport" + v.suffix, KeyType: v.port, Concatenation: true, HasTimeout: true, Size: MaxBans})
		add(nftables.Set{Name: "grey" + v.suffix, KeyType: v.addr, Dynamic: true, HasTimeout: true,
			Timeout: s.greyTimeout, Size: s.greySize})
		add(nftables.Set{Name: "meter" + v.suffix, KeyType: v.addr, Dynamic: true, HasTimeout: true,
			Timeout: meterTimeout, Size: s.greySize})
	}
	// Declared last, so the sets above keep their IDs.
	for _, v := range []struct {
		suffix string
		addr   nftables.SetDatatype
	}{{"4", nftables.TypeIPAddr}, {"6", nftables.TypeIP6Addr}} {
		add(nftables.Set{Name: "wgmeter" + v.suffix, KeyType: v.addr, Dynamic: true, HasTimeout: true,
			Timeout: meterTimeout, Size: s.greySize})
		add(nftables.Set{Name: "nogrey" + v.suffix, KeyType: v.addr, Interval: true})
	}
}

// anon declares a constant anonymous set for one rule.
func (l *layout) anon(keyType nftables.SetDatatype, keys [][]byte) *nftables.Set {
	s := &nftables.Set{Table: l.table, Name: "__set%d", Anonymous: true, Constant: true,
		KeyType: keyType, ID: uint32(len(l.order) + len(l.anons) + 1)}
	elems := make([]nftables.SetElement, len(keys))
	for i, k := range keys {
		elems[i] = nftables.SetElement{Key: k}
	}
	l.anons = append(l.anons, anonSet{set: s, elems: elems})
	return s
}

func (l *layout) rule(exprs ...[]expr.Any) { l.ruleIn(l.chain, exprs...) }

func (l *layout) ruleIn(c *nftables.Chain, exprs ...[]expr.Any) {
	var all []expr.Any
	for _, e := range exprs {
		all = append(all, e...)
	}
	l.rules = append(l.rules, &nftables.Rule{Table: l.table, Chain: c, Exprs: all})
}

// count returns how many rules chain c has.
func (l *layout) count(c *nftables.Chain) int {
	n := 0
	for _, r := range l.rules {
		if r.Chain == c {
			n++
		}
	}
	return n
}

// addRules writes chain pre: loopback, trusted sources, bans, greylist,
// then the kernel's own greylisting of flooders.
func (l *layout) addRules(s settings) {
	accept := verdict(expr.VerdictAccept)
	drop := verdict(expr.VerdictDrop)
	l.rule([]expr.Any{&expr.Meta{Key: expr.MetaKeyIIF, Register: regKey},
		cmpEq(binaryutil.NativeEndian.PutUint32(1))}, accept) // lo is ifindex 1 in every namespace
	for _, v6 := range []bool{false, true} {
		l.rule(nfproto(v6), saddr(v6), l.lookup(pick(v6, setTrust4, setTrust6)), accept)
	}
	for _, name := range [][2]string{{setBan4, setBan6}, {setBanNet4, setBanNet6}} {
		for _, v6 := range []bool{false, true} {
			l.rule(nfproto(v6), saddr(v6), l.lookup(pick(v6, name[0], name[1])), drop)
		}
	}
	for _, v6 := range []bool{false, true} {
		protos := l.anon(nftables.TypeInetProto, [][]byte{{unix.IPPROTO_TCP}, {unix.IPPROTO_UDP}})
		l.rule(nfproto(v6), l4protoIn(protos), saddr(v6), dport(pick[uint32](v6, regPortAfter4, regPortAfter6)),
			l.lookup(pick(v6, setBanPort4, setBanPort6)), drop)
	}
	if !s.metered() {
		// Without guarded ports a greylisting (after failed logins) has
		// nothing narrower to close.
		for _, v6 := range []bool{false, true} {
			l.rule(nfproto(v6), saddr(v6), l.lookup(pick(v6, setGrey4, setGrey6)), drop)
		}
		return
	}
	// A greylisted source loses the guarded ports only: were its address
	// spoofed, the real owner keeps everything else.
	for _, v6 := range []bool{false, true} {
		protos := l.anon(nftables.TypeInetProto, [][]byte{{unix.IPPROTO_TCP}, {unix.IPPROTO_UDP}})
		l.rule(nfproto(v6), l4protoIn(protos), saddr(v6), l.lookup(pick(v6, setGrey4, setGrey6)),
			l.guardPorts(s.guardPorts), drop)
	}
	// Nothing proves who sent a WireGuard initiation (its MAC needs the
	// peer keys), so a source's excess initiations are dropped while it
	// floods but never greylist it: a spoofer cannot lock the owner out.
	for _, v6 := range []bool{false, true} {
		l.rule(nfproto(v6), wgInitiation(), l.guardPorts(s.guardPorts), saddr(v6),
			l.notLookup(pick(v6, setNoGrey4, setNoGrey6)), l.overRate(pick(v6, setWGMeter4, setWGMeter6), s), drop)
	}
	// TCP counts a connection once, when conntrack marks it assured (its
	// handshake completed): a spoofed SYN never gets there, as its sender
	// never sees the SYN-ACK and the real owner answers it with a reset.
	// `ct state established` would not do: that reset is established.
	for _, v6 := range []bool{false, true} {
		l.ruleIn(l.meter, nfproto(v6), l4proto(unix.IPPROTO_TCP), l.guardPorts(s.guardPorts),
			ctStatus(ipsAssured), ctOriginal(), ctMarkClear(meteredMark), saddr(v6),
			l.notLookup(pick(v6, setNoGrey4, setNoGrey6)), ctMarkSet(meteredMark), saddr(v6),
			l.overRate(pick(v6, setMeter4, setMeter6), s), l.addSaddr(v6, pick(v6, setGrey4, setGrey6)), drop)
	}
}

func (l *layout) lookup(set string) []expr.Any {
	s := l.sets[set]
	return []expr.Any{&expr.Lookup{SourceRegister: regKey, SetName: s.Name, SetID: s.ID}}
}

// guardPorts matches a destination port in GuardPorts. Anonymous sets are
// bound to one rule each, so every rule gets its own.
func (l *layout) guardPorts(ports []uint16) []expr.Any {
	keys := make([][]byte, len(ports))
	for i, p := range ports {
		keys[i] = binaryutil.BigEndian.PutUint16(p)
	}
	s := l.anon(nftables.TypeInetService, keys)
	return append(dport(regKey), &expr.Lookup{SourceRegister: regKey, SetName: s.Name, SetID: s.ID})
}

// notLookup is `saddr != @set`; the source must be in regKey.
func (l *layout) notLookup(set string) []expr.Any {
	s := l.sets[set]
	return []expr.Any{&expr.Lookup{SourceRegister: regKey, SetName: s.Name, SetID: s.ID, Invert: true}}
}

// overRate is `saddr update @meter { saddr limit rate over R/second burst
// B packets }`: the limit breaks the rule while the source stays under
// the rate, so only a flooder gets past it.
func (l *layout) overRate(meter string, s settings) []expr.Any {
	m := l.sets[meter]
	return []expr.Any{&expr.Dynset{SrcRegKey: regKey, SetName: m.Name, SetID: m.ID, Operation: unix.NFT_DYNSET_OP_UPDATE,
		Exprs: []expr.Any{&expr.Limit{Type: expr.LimitTypePkts, Rate: uint64(s.rate), Over: true,
			Unit: expr.LimitTimeSecond, Burst: s.burst}}}}
}

// addSaddr is `add @set { saddr }`.
func (l *layout) addSaddr(v6 bool, set string) []expr.Any {
	g := l.sets[set]
	return append(saddr(v6), &expr.Dynset{SrcRegKey: regKey, SetName: g.Name, SetID: g.ID, Operation: unix.NFT_DYNSET_OP_ADD})
}

// ipsAssured is IPS_ASSURED of the conntrack status bits.
const ipsAssured uint32 = 1 << 2

// ctStatus is `ct status & bit != 0` (host byte order, as the kernel keeps it).
func ctStatus(bit uint32) []expr.Any {
	return []expr.Any{&expr.Ct{Register: regKey, Key: expr.CtKeySTATUS},
		&expr.Bitwise{SourceRegister: regKey, DestRegister: regKey, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(bit), Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: regKey, Data: make([]byte, 4)}}
}

// ctOriginal is `ct direction original`: the client's side of the flow.
func ctOriginal() []expr.Any {
	return []expr.Any{&expr.Ct{Register: regKey, Key: expr.CtKeyDIRECTION}, cmpEq([]byte{0})}
}

// ctMarkClear is `ct mark & bit == 0`.
func ctMarkClear(bit uint32) []expr.Any {
	return []expr.Any{&expr.Ct{Register: regKey, Key: expr.CtKeyMARK},
		&expr.Bitwise{SourceRegister: regKey, DestRegister: regKey, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(bit), Xor: make([]byte, 4)},
		cmpEq(make([]byte, 4))}
}

// ctMarkSet is `ct mark set ct mark | bit`.
func ctMarkSet(bit uint32) []expr.Any {
	return []expr.Any{&expr.Ct{Register: regKey, Key: expr.CtKeyMARK},
		&expr.Bitwise{SourceRegister: regKey, DestRegister: regKey, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(^bit), Xor: binaryutil.NativeEndian.PutUint32(bit)},
		&expr.Ct{Register: regKey, Key: expr.CtKeyMARK, SourceRegister: true}}
}

func pick[T any](v6 bool, v4val, v6val T) T {
	if v6 {
		return v6val
	}
	return v4val
}

func verdict(k expr.VerdictKind) []expr.Any {
	return []expr.Any{&expr.Counter{}, &expr.Verdict{Kind: k}}
}

func cmpEq(data []byte) *expr.Cmp {
	return &expr.Cmp{Op: expr.CmpOpEq, Register: regKey, Data: data}
}

// nfproto comes before any network-header load: in an inet table the same
// offset means a different field in IPv4 and IPv6.
func nfproto(v6 bool) []expr.Any {
	return []expr.Any{&expr.Meta{Key: expr.MetaKeyNFPROTO, Register: regKey},
		cmpEq([]byte{pick[byte](v6, unix.NFPROTO_IPV4, unix.NFPROTO_IPV6)})}
}

func saddr(v6 bool) []expr.Any {
	if v6 {
		return []expr.Any{&expr.Payload{DestRegister: regKey, Base: expr.PayloadBaseNetworkHeader, Offset: 8, Len: 16}}
	}
	return []expr.Any{&expr.Payload{DestRegister: regKey, Base: expr.PayloadBaseNetworkHeader, Offset: 12, Len: 4}}
}

// dport loads the TCP/UDP destination port. The kernel refuses the load
// for non-first fragments, so the rule simply does not match them.
func dport(reg uint32) []expr.Any {
	return []expr.Any{&expr.Payload{DestRegister: reg, Base: expr.PayloadBaseTransportHeader, Offset: 2, Len: 2}}
}

func l4protoIn(set *nftables.Set) []expr.Any {
	return []expr.Any{&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: regKey},
		&expr.Lookup{SourceRegister: regKey, SetName: set.Name, SetID: set.ID}}
}

// wgInitiation matches a WireGuard handshake initiation: a UDP datagram of
// 148 payload bytes (UDP length 156) that starts with message type 1 and
// three zero bytes. It is the UDP counterpart of a SYN: metering every UDP
// packet would greylist any peer that moves more than Rate packets per
// second through the tunnel.
func wgInitiation() []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: regKey}, cmpEq([]byte{unix.IPPROTO_UDP}),
		&expr.Payload{DestRegister: regKey, Base: expr.PayloadBaseTransportHeader, Offset: 4, Len: 2},
		cmpEq(binaryutil.BigEndian.PutUint16(156)),
		&expr.Payload{DestRegister: regKey, Base: expr.PayloadBaseTransportHeader, Offset: 8, Len: 4},
		cmpEq([]byte{1, 0, 0, 0}),
	}
}
