package nft

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/tunnel"
	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// The overlay policy shares table inet edgeward with the ACL: three base
// chains and two sets per group. Group IDs are 20-character xids, too long
// for the 15-character names of old kernels, so a group's sets are named
// after its position in the policy: gN (members) and rN (resources).
const (
	// forward: who may open connections through the overlay. Not "fwd",
	// which nft(8) parses as a keyword: such a chain could neither be named
	// on its command line nor reloaded from its listing.
	chainFwd   = "ovfwd"
	chainOvIn  = "ovin"  // input: the gateway's own services on the overlay
	chainOvNAT = "ovnat" // postrouting: overlay traffic leaving for resources
)

var policyChains = []string{chainFwd, chainOvIn, chainOvNAT}

// policyIDBase is where the batch IDs of the policy's sets start. Install
// queues the ACL layout (IDs from 1) and the policy in one transaction, and
// the IDs must not collide there.
const policyIDBase uint32 = 1 << 20

// ruleBytes bounds one encoded policy rule, for sizing the send buffer.
const ruleBytes = 1024

// ICMP echo request, the only ICMP a Service opens.
const icmpEchoRequest = 8

var _ tunnel.Filter = (*Firewall)(nil)

// overlay is a validated tunnel.Policy with each group's members as they
// are now (ApplyMembers keeps them current), and its kernel objects.
type overlay struct {
	iface    string
	gateway  netip.Addr
	network  netip.Prefix
	services []tunnel.Service
	groups   []*ovGroup // the N-th owns sets gN and rN
	byID     map[string]*ovGroup
	rules    []tunnel.Rule // addresses unmapped
	lay      *policyLayout
}

type ovGroup struct {
	members   map[netip.Addr]struct{}
	resources []addrRange // merged
	mset      *nftables.Set
	rset      *nftables.Set // nil without resources
}

// policyLayout is the policy's chains, named sets and rules. Named sets'
// elements are built when queued, from the overlay's current members.
type policyLayout struct {
	table  *nftables.Table
	chains []*nftables.Chain // ovfwd, ovin, ovnat
	sets   []*nftables.Set
	anons  []anonSet
	rules  []*nftables.Rule
	count  map[string]int // rules per chain
	nextID uint32
}

// InstallPolicy replaces the overlay policy of table inet edgeward (chains
// ovfwd, ovin and ovnat, and each group's sets) in one transaction. Chain
// pre and the ACL's sets are not touched. Before the ACL's first Install
// it creates the table, so the data plane may start first; Install keeps
// the policy (with members changed since by ApplyMembers). A Policy with
// an empty Interface removes the policy part.
//
// The overlay is IPv4: IPv6 from Interface is dropped, and IPv6 Resources
// are left out (they could never be reached). A Policy that does not hold
// together (an interface name longer than 15 bytes, a gateway, network or
// member that is not IPv4, a group ID empty or twice, a rule naming an
// unknown group or both or neither of a group and an address, an unknown
// protocol, a reversed port range, ports on protocol all or icmp) is an
// error matching core.ErrInvalid, and nothing is changed. A Service for
// tcp or udp with Ports {0, 0} opens every port.
//
// InstallPolicy is idempotent and safe for concurrent use with the
// Firewall's other methods. Chains and sets of a policy left by a previous
// run are replaced as well. About 0.1 s for 1,000 rules and 10,000
// members.
func (f *Firewall) InstallPolicy(ctx context.Context, p tunnel.Policy) error {
	o, err := newOverlay(p)
	if err != nil {
		return fmt.Errorf("install policy: %w", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.ready(); err != nil {
		return err
	}
	exists, chains, sets, err := f.policyObjects(ctx)
	if err != nil {
		return fmt.Errorf("install policy: %w", mapErr(err))
	}
	if o == nil && len(chains)+len(sets) == 0 {
		f.pol = nil // nothing to remove
		return nil
	}
	t := &nftables.Table{Name: TableName, Family: nftables.TableFamilyINet}
	if !exists {
		f.q.AddTable(t)
	}
	// Chains first: their rules hold the sets.
	for _, name := range chains {
		f.q.DelChain(&nftables.Chain{Name: name, Table: t})
	}
	for _, name := range sets {
		f.q.DelSet(&nftables.Set{Name: name, Table: t})
	}
	if err := o.queue(f.q); err != nil {
		f.reconnect()
		return fmt.Errorf("install policy: %w", err)
	}
	if err := f.commit(ctx, batchOverhead+o.bytes(), false); err != nil {
		return fmt.Errorf("install policy in table inet %s: %w", TableName, mapErr(err))
	}
	f.pol = o
	if o == nil {
		f.log.Info("overlay policy removed")
		return nil
	}
	f.log.Info("overlay policy installed", "interface", o.iface, "groups", len(o.groups), "rules", len(o.lay.rules))
	return nil
}

// ApplyMembers adds and removes members of the installed policy's groups
// in one transaction: removes first, then adds, so a member in both ends
// up present. Removing an absent member and adding a present one are not
// errors. A group the installed policy does not have (or no policy at
// all) and a member address that is not IPv4 are errors matching
// core.ErrInvalid, and nothing is changed. When a group's set is missing
// from the kernel the error matches core.ErrNotFound (Check reports the
// drift; Install repairs it).
func (f *Firewall) ApplyMembers(ctx context.Context, d tunnel.Members) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.ready(); err != nil {
		return err
	}
	removes, err := f.pol.memberOps(d.Remove)
	if err != nil {
		return fmt.Errorf("apply members: %w", err)
	}
	adds, err := f.pol.memberOps(d.Add)
	if err != nil {
		return fmt.Errorf("apply members: %w", err)
	}
	if len(removes)+len(adds) == 0 {
		return nil
	}
	// A delete of an absent element fails the whole batch; an add first
	// makes it present, whatever the kernel held.
	n := 0
	err = eachMemberChunk(removes, func(g *ovGroup, part []nftables.SetElement) error {
		n += 2 * len(part)
		return errors.Join(f.q.SetAddElements(g.mset, part), f.q.SetDeleteElements(g.mset, part))
	})
	if err == nil {
		err = eachMemberChunk(adds, func(g *ovGroup, part []nftables.SetElement) error {
			n += len(part)
			return f.q.SetAddElements(g.mset, part)
		})
	}
	if err != nil {
		f.reconnect()
		return fmt.Errorf("apply members: %w", err)
	}
	if err := f.commit(ctx, batchOverhead+n*elementBytes, false); err != nil {
		if errors.Is(err, unix.ENOENT) {
			err = fmt.Errorf("%w: a group set is missing: %w", core.ErrNotFound, err)
		}
		return fmt.Errorf("apply members: %w", mapErr(err))
	}
	for _, op := range removes {
		for _, a := range op.addrs {
			delete(op.g.members, a)
		}
	}
	for _, op := range adds {
		for _, a := range op.addrs {
			op.g.members[a] = struct{}{}
		}
	}
	return nil
}

// memberOp is one group's share of a membership change, without duplicates.
type memberOp struct {
	g     *ovGroup
	addrs []netip.Addr
}

func (o *overlay) memberOps(ms []tunnel.Member) ([]memberOp, error) {
	var ops []memberOp
	at := map[*ovGroup]int{}
	seen := map[tunnel.Member]bool{}
	for _, m := range ms {
		var g *ovGroup
		if o != nil {
			g = o.byID[m.Group]
		}
		if g == nil {
			return nil, fmt.Errorf("group %q not in the installed policy: %w", m.Group, core.ErrInvalid)
		}
		a := m.Addr.Unmap()
		if !a.Is4() {
			return nil, fmt.Errorf("member %q of group %q: not an IPv4 address: %w", m.Addr, m.Group, core.ErrInvalid)
		}
		k := tunnel.Member{Group: m.Group, Addr: a}
		if seen[k] {
			continue
		}
		seen[k] = true
		i, ok := at[g]
		if !ok {
			i = len(ops)
			at[g] = i
			ops = append(ops, memberOp{g: g})
		}
		ops[i].addrs = append(ops[i].addrs, a)
	}
	return ops, nil
}

func eachMemberChunk(ops []memberOp, fn func(*ovGroup, []nftables.SetElement) error) error {
	for _, op := range ops {
		for _, part := range chunked(op.addrs, chunkSize) {
			if err := fn(op.g, addrElements(part)); err != nil {
				return fmt.Errorf("queue elements of set %s: %w", op.g.mset.Name, err)
			}
		}
	}
	return nil
}

func addrElements(as []netip.Addr) []nftables.SetElement {
	out := make([]nftables.SetElement, len(as))
	for i, a := range as {
		b := a.As4()
		out[i] = nftables.SetElement{Key: b[:]}
	}
	return out
}

// policyObjects reads whether the table exists and which of its chains and
// sets belong to a policy (installed by this process or a previous one).
// Callers hold mu.
func (f *Firewall) policyObjects(ctx context.Context) (exists bool, chains, sets []string, err error) {
	deadline(ctx, f.sock)
	tables, err := f.conn.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		f.reconnect()
		return false, nil, nil, fmt.Errorf("list tables: %w", err)
	}
	if !slices.ContainsFunc(tables, func(t *nftables.Table) bool { return t.Name == TableName }) {
		return false, nil, nil, nil
	}
	cs, err := f.conn.ListChainsOfTableFamily(nftables.TableFamilyINet)
	if err != nil {
		f.reconnect()
		return false, nil, nil, fmt.Errorf("list chains: %w", err)
	}
	for _, c := range cs {
		if c.Table != nil && c.Table.Name == TableName && slices.Contains(policyChains, c.Name) {
			chains = append(chains, c.Name)
		}
	}
	ss, err := f.conn.GetSets(&nftables.Table{Name: TableName, Family: nftables.TableFamilyINet})
	if err != nil {
		f.reconnect()
		return false, nil, nil, fmt.Errorf("list sets: %w", err)
	}
	for _, s := range ss {
		if isPolicySet(s.Name) {
			sets = append(sets, s.Name)
		}
	}
	return true, chains, sets, nil
}

// isPolicySet reports whether name is gN or rN. No ACL set has that form.
func isPolicySet(name string) bool {
	if len(name) < 2 || (name[0] != 'g' && name[0] != 'r') {
		return false
	}
	_, err := strconv.ParseUint(name[1:], 10, 32)
	return err == nil
}

// policyStructure returns what of the installed policy is missing from
// the table, given the table's chains and sets, or "". Callers hold mu.
func (f *Firewall) policyStructure(ctx context.Context, chains []*nftables.Chain, sets []*nftables.Set) (string, error) {
	if f.pol == nil {
		return "", nil
	}
	l := f.pol.lay
	for _, want := range l.chains {
		why, err := f.chainStructure(ctx, chains, l.table, want, l.count[want.Name])
		if why != "" || err != nil {
			return why, err
		}
	}
	for _, want := range l.sets {
		if !slices.ContainsFunc(sets, func(s *nftables.Set) bool { return s.Name == want.Name }) {
			return "set " + want.Name + " is missing", nil
		}
	}
	return "", nil
}

// queue queues the policy's sets with their current elements, chains and
// rules on c. A nil overlay queues nothing.
func (o *overlay) queue(c *nftables.Conn) error {
	if o == nil {
		return nil
	}
	for _, g := range o.groups {
		if err := c.AddSet(g.mset, nil); err != nil {
			return fmt.Errorf("add set %s: %w", g.mset.Name, err)
		}
		members := make([]netip.Addr, 0, len(g.members))
		for a := range g.members {
			members = append(members, a)
		}
		slices.SortFunc(members, netip.Addr.Compare)
		for _, part := range chunked(members, chunkSize) {
			if err := c.SetAddElements(g.mset, addrElements(part)); err != nil {
				return fmt.Errorf("queue elements of set %s: %w", g.mset.Name, err)
			}
		}
		if g.rset == nil {
			continue
		}
		if err := c.AddSet(g.rset, nil); err != nil {
			return fmt.Errorf("add set %s: %w", g.rset.Name, err)
		}
		for _, part := range chunked(intervalElements(g.resources), chunkSize) {
			if err := c.SetAddElements(g.rset, part); err != nil {
				return fmt.Errorf("queue elements of set %s: %w", g.rset.Name, err)
			}
		}
	}
	for _, ch := range o.lay.chains {
		c.AddChain(ch)
	}
	for _, a := range o.lay.anons {
		if err := c.AddSet(a.set, a.elems); err != nil {
			return fmt.Errorf("add anonymous set: %w", err)
		}
	}
	for _, r := range o.lay.rules {
		c.AddRule(r)
	}
	return nil
}

// bytes estimates the encoded size of what queue sends.
func (o *overlay) bytes() int {
	if o == nil {
		return 0
	}
	n := len(o.lay.rules) * ruleBytes
	for _, g := range o.groups {
		n += (len(g.members) + 2*len(g.resources)) * elementBytes
	}
	for _, a := range o.lay.anons {
		n += len(a.elems) * elementBytes
	}
	return n + (len(o.lay.sets)+len(o.lay.anons))*ruleBytes
}

// newOverlay validates p and builds its kernel objects. An empty
// Interface gives nil: no policy.
func newOverlay(p tunnel.Policy) (*overlay, error) {
	if p.Interface == "" {
		return nil, nil
	}
	if len(p.Interface) >= unix.IFNAMSIZ || strings.ContainsAny(p.Interface, "\x00/ ") {
		return nil, fmt.Errorf("interface name %q: %w", p.Interface, core.ErrInvalid)
	}
	gw := p.Gateway.Unmap()
	if !gw.Is4() {
		return nil, fmt.Errorf("gateway %q: not an IPv4 address: %w", p.Gateway, core.ErrInvalid)
	}
	network, err := normalPrefix(p.Network)
	if err != nil || !network.Addr().Is4() {
		return nil, fmt.Errorf("network %q: not an IPv4 prefix: %w", p.Network, core.ErrInvalid)
	}
	o := &overlay{iface: p.Interface, gateway: gw, network: network, byID: map[string]*ovGroup{}}
	for i, s := range p.Services {
		if s.Protocol == tunnel.ProtoICMP {
			s.Ports = tunnel.PortRange{}
		}
		var ports []tunnel.PortRange
		if s.Ports != (tunnel.PortRange{}) {
			ports = []tunnel.PortRange{s.Ports}
		}
		if err := checkPorts(s.Protocol, ports); err != nil {
			return nil, fmt.Errorf("service %d: %w", i, err)
		}
		o.services = append(o.services, s)
	}
	for i, g := range p.Groups {
		if err := o.addGroup(g); err != nil {
			return nil, fmt.Errorf("group %d: %w", i, err)
		}
	}
	for i, r := range p.Rules {
		r.FromAddr, r.ToAddr = r.FromAddr.Unmap(), r.ToAddr.Unmap()
		if err := o.checkSide(r.FromGroup, r.FromAddr); err != nil {
			return nil, fmt.Errorf("rule %d source: %w", i, err)
		}
		if err := o.checkSide(r.ToGroup, r.ToAddr); err != nil {
			return nil, fmt.Errorf("rule %d destination: %w", i, err)
		}
		if err := checkPorts(r.Protocol, r.Ports); err != nil {
			return nil, fmt.Errorf("rule %d: %w", i, err)
		}
		o.rules = append(o.rules, r)
	}
	o.lay = o.build()
	return o, nil
}

func (o *overlay) addGroup(g tunnel.Group) error {
	if g.ID == "" {
		return fmt.Errorf("no id: %w", core.ErrInvalid)
	}
	if o.byID[g.ID] != nil {
		return fmt.Errorf("id %q twice: %w", g.ID, core.ErrInvalid)
	}
	og := &ovGroup{members: make(map[netip.Addr]struct{}, len(g.Members))}
	for _, a := range g.Members {
		if a = a.Unmap(); !a.Is4() {
			return fmt.Errorf("member %q: not an IPv4 address: %w", a, core.ErrInvalid)
		}
		og.members[a] = struct{}{}
	}
	var v4 []netip.Prefix
	for _, r := range g.Resources {
		n, err := normalPrefix(r)
		if err != nil {
			return fmt.Errorf("resource: %w", err)
		}
		if n.Addr().Is4() {
			v4 = append(v4, n) // IPv6 cannot come from the IPv4 overlay
		}
	}
	og.resources, _, _ = mergePrefixes(v4)
	o.groups = append(o.groups, og)
	o.byID[g.ID] = og
	return nil
}

// checkSide checks one side of a rule: a known group or an IPv4 address.
func (o *overlay) checkSide(group string, a netip.Addr) error {
	switch {
	case group != "" && a.IsValid():
		return fmt.Errorf("both group %q and address %s: %w", group, a, core.ErrInvalid)
	case group != "":
		if o.byID[group] == nil {
			return fmt.Errorf("group %q not in the policy: %w", group, core.ErrInvalid)
		}
	case !a.IsValid():
		return fmt.Errorf("neither group nor address: %w", core.ErrInvalid)
	case !a.Is4():
		return fmt.Errorf("address %s: not IPv4: %w", a, core.ErrInvalid)
	}
	return nil
}

func checkPorts(proto string, ports []tunnel.PortRange) error {
	switch proto {
	case tunnel.ProtoTCP, tunnel.ProtoUDP:
		for _, r := range ports {
			if r.First > r.Last {
				return fmt.Errorf("port range %d-%d: %w", r.First, r.Last, core.ErrInvalid)
			}
		}
		return nil
	case tunnel.ProtoAll, tunnel.ProtoICMP:
		if len(ports) > 0 {
			return fmt.Errorf("ports with protocol %s: %w", proto, core.ErrInvalid)
		}
		return nil
	}
	return fmt.Errorf("protocol %q: %w", proto, core.ErrInvalid)
}

// build declares the chains, sets and rules.
func (o *overlay) build() *policyLayout {
	t := &nftables.Table{Name: TableName, Family: nftables.TableFamilyINet}
	accept := nftables.ChainPolicyAccept
	chain := func(name string, typ nftables.ChainType, hook *nftables.ChainHook, prio *nftables.ChainPriority) *nftables.Chain {
		return &nftables.Chain{Name: name, Table: t, Type: typ, Hooknum: hook, Priority: prio, Policy: &accept}
	}
	l := &policyLayout{table: t, count: map[string]int{}, nextID: policyIDBase, chains: []*nftables.Chain{
		chain(chainFwd, nftables.ChainTypeFilter, nftables.ChainHookForward, nftables.ChainPriorityFilter),
		chain(chainOvIn, nftables.ChainTypeFilter, nftables.ChainHookInput, nftables.ChainPriorityFilter),
		// inet nat chains need Linux 5.2.
		chain(chainOvNAT, nftables.ChainTypeNAT, nftables.ChainHookPostrouting, nftables.ChainPriorityNATSource),
	}}
	for i, g := range o.groups {
		g.mset = l.set("g"+strconv.Itoa(i), false)
		if len(g.resources) > 0 {
			g.rset = l.set("r"+strconv.Itoa(i), true)
		}
	}
	l.fwdRules(o)
	l.inRules(o)
	l.natRules(o)
	return l
}

// fwdRules writes chain ovfwd: replies pass, then each rule (and its
// destination group's resources), then nothing else enters or leaves the
// overlay.
func (l *policyLayout) fwdRules(o *overlay) {
	fwd, iif := l.chains[0], func() []expr.Any { return ifname(expr.MetaKeyIIFNAME, expr.CmpOpEq, o.iface) }
	accept, drop := verdict(expr.VerdictAccept), verdict(expr.VerdictDrop)
	l.rule(fwd, ctState(expr.CtStateBitESTABLISHED|expr.CtStateBitRELATED), accept)
	l.rule(fwd, iif(), ctState(expr.CtStateBitINVALID), drop)
	side := func(group string) *nftables.Set {
		if g := o.byID[group]; g != nil {
			return g.mset
		}
		return nil
	}
	for _, r := range o.rules {
		from := addrMatch(offSrc, side(r.FromGroup), r.FromAddr)
		l.rule(fwd, iif(), nfproto(false), from, addrMatch(offDst, side(r.ToGroup), r.ToAddr),
			l.l4(r.Protocol, r.Ports), accept)
		if g := o.byID[r.ToGroup]; g != nil && g.rset != nil {
			// Only traffic leaving the overlay: a resource of 0.0.0.0/0
			// (the internet) must not open the way to other peers.
			l.rule(fwd, iif(), ifname(expr.MetaKeyOIFNAME, expr.CmpOpNeq, o.iface), nfproto(false), from,
				addrMatch(offDst, g.rset, netip.Addr{}), l.l4(r.Protocol, r.Ports), accept)
		}
	}
	l.rule(fwd, iif(), drop)
	l.rule(fwd, ifname(expr.MetaKeyOIFNAME, expr.CmpOpEq, o.iface), drop)
}

// inRules writes chain ovin: from the overlay the gateway answers only
// its services.
func (l *policyLayout) inRules(o *overlay) {
	in, iif := l.chains[1], func() []expr.Any { return ifname(expr.MetaKeyIIFNAME, expr.CmpOpEq, o.iface) }
	accept := verdict(expr.VerdictAccept)
	l.rule(in, iif(), ctState(expr.CtStateBitESTABLISHED|expr.CtStateBitRELATED), accept)
	for _, s := range o.services {
		var l4 []expr.Any
		switch {
		case s.Protocol == tunnel.ProtoICMP:
			l4 = append(l.l4(s.Protocol, nil),
				&expr.Payload{DestRegister: regKey, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 1},
				cmpEq([]byte{icmpEchoRequest}))
		case s.Ports == (tunnel.PortRange{}):
			l4 = l.l4(s.Protocol, nil)
		default:
			l4 = l.l4(s.Protocol, []tunnel.PortRange{s.Ports})
		}
		l.rule(in, iif(), nfproto(false), addrMatch(offDst, nil, o.gateway), l4, accept)
	}
	l.rule(in, iif(), verdict(expr.VerdictDrop))
}

// natRules writes chain ovnat: overlay traffic leaving through another
// interface (to a resource) takes the gateway's address there, so the
// resource's network needs no route back into the overlay.
func (l *policyLayout) natRules(o *overlay) {
	mask := net4Mask(o.network.Bits())
	a := o.network.Addr().As4()
	l.rule(l.chains[2], nfproto(false), ip4(offSrc),
		[]expr.Any{&expr.Bitwise{SourceRegister: regKey, DestRegister: regKey, Len: 4, Mask: mask[:], Xor: make([]byte, 4)},
			cmpEq(a[:])},
		ifname(expr.MetaKeyOIFNAME, expr.CmpOpNeq, o.iface),
		[]expr.Any{&expr.Counter{}, &expr.Masq{}})
}

func net4Mask(bits int) [4]byte {
	var m [4]byte
	for i := range bits {
		m[i/8] |= 1 << (7 - i%8)
	}
	return m
}

func (l *policyLayout) rule(c *nftables.Chain, exprs ...[]expr.Any) {
	var all []expr.Any
	for _, e := range exprs {
		all = append(all, e...)
	}
	l.rules = append(l.rules, &nftables.Rule{Table: l.table, Chain: c, Exprs: all})
	l.count[c.Name]++
}

func (l *policyLayout) id() uint32 {
	l.nextID++
	return l.nextID
}

// set declares a named IPv4 set.
func (l *policyLayout) set(name string, interval bool) *nftables.Set {
	s := &nftables.Set{Table: l.table, Name: name, KeyType: nftables.TypeIPAddr, KeyByteOrder: binaryutil.BigEndian,
		Interval: interval, ID: l.id()}
	l.sets = append(l.sets, s)
	return s
}

// l4 matches a protocol and, for TCP and UDP, the destination ports: one
// port by comparison, more by a constant interval set of the rule's own.
func (l *policyLayout) l4(proto string, ports []tunnel.PortRange) []expr.Any {
	switch proto {
	case tunnel.ProtoAll:
		return nil
	case tunnel.ProtoICMP:
		return l4proto(unix.IPPROTO_ICMP)
	}
	out := l4proto(pick[byte](proto == tunnel.ProtoUDP, unix.IPPROTO_TCP, unix.IPPROTO_UDP))
	rs := mergePorts(ports)
	if len(rs) == 0 {
		return out
	}
	out = append(out, dport(regKey)...)
	if len(rs) == 1 && rs[0].First == rs[0].Last {
		return append(out, cmpEq(binaryutil.BigEndian.PutUint16(rs[0].First)))
	}
	elems := make([]nftables.SetElement, 0, 2*len(rs))
	for _, r := range rs {
		elems = append(elems, nftables.SetElement{Key: binaryutil.BigEndian.PutUint16(r.First)})
		if r.Last < math.MaxUint16 {
			elems = append(elems, nftables.SetElement{Key: binaryutil.BigEndian.PutUint16(r.Last + 1), IntervalEnd: true})
		}
	}
	s := &nftables.Set{Table: l.table, Name: "__set%d", Anonymous: true, Constant: true, Interval: true,
		KeyType: nftables.TypeInetService, KeyByteOrder: binaryutil.BigEndian, ID: l.id()}
	l.anons = append(l.anons, anonSet{set: s, elems: elems})
	return append(out, &expr.Lookup{SourceRegister: regKey, SetName: s.Name, SetID: s.ID})
}

// mergePorts sorts ranges and joins those that overlap or touch: the
// kernel refuses overlapping intervals in one set.
func mergePorts(ps []tunnel.PortRange) []tunnel.PortRange {
	rs := slices.Clone(ps)
	slices.SortFunc(rs, func(a, b tunnel.PortRange) int { return cmp.Compare(a.First, b.First) })
	var out []tunnel.PortRange
	for _, r := range rs {
		if n := len(out); n > 0 && uint32(r.First) <= uint32(out[n-1].Last)+1 {
			out[n-1].Last = max(out[n-1].Last, r.Last)
			continue
		}
		out = append(out, r)
	}
	return out
}

// Offsets of the IPv4 source and destination addresses.
const (
	offSrc = 12
	offDst = 16
)

func ip4(off uint32) []expr.Any {
	return []expr.Any{&expr.Payload{DestRegister: regKey, Base: expr.PayloadBaseNetworkHeader, Offset: off, Len: 4}}
}

// addrMatch matches the address at off against set s, or equal to a when
// s is nil. The rule must match nfproto ipv4 first.
func addrMatch(off uint32, s *nftables.Set, a netip.Addr) []expr.Any {
	if s != nil {
		return append(ip4(off), &expr.Lookup{SourceRegister: regKey, SetName: s.Name, SetID: s.ID})
	}
	b := a.As4()
	return append(ip4(off), cmpEq(b[:]))
}

// ifname compares the input or output interface's name, which the kernel
// loads as IFNAMSIZ bytes padded with zeros.
func ifname(key expr.MetaKey, op expr.CmpOp, name string) []expr.Any {
	b := make([]byte, unix.IFNAMSIZ)
	copy(b, name)
	return []expr.Any{&expr.Meta{Key: key, Register: regKey}, &expr.Cmp{Op: op, Register: regKey, Data: b}}
}

// ctState is `ct state` matching any of bits (host byte order, as the
// kernel keeps them).
func ctState(bits uint32) []expr.Any {
	return []expr.Any{&expr.Ct{Register: regKey, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: regKey, DestRegister: regKey, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(bits), Xor: make([]byte, 4)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: regKey, Data: make([]byte, 4)}}
}

func l4proto(p byte) []expr.Any {
	return []expr.Any{&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: regKey}, cmpEq([]byte{p})}
}
