package nft

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/acl"
	"github.com/google/nftables"
)

// chunkSize is how many elements go into one NEWSETELEM/DELSETELEM
// message. The element list is one netlink attribute with a 16-bit length,
// so it must stay under 64 KiB; v0.3.0 of the library does not split it
// and silently truncates the length instead. The largest element,
// banport6 with a timeout, encodes to 44 bytes: 1024 of them are 45 KiB,
// leaving room for interval flags. Measured on 100,000 IPv4 bans, 256,
// 1024 and 2048 per message load within noise of each other (0.19-0.24 s),
// so the safe size costs nothing.
const chunkSize = 1024

// group is the elements of one set within a batch, in order, without
// duplicates: the kernel refuses a second delete of the same key in one
// transaction, and a second add is wasted work. It holds positions in
// the caller's slice, not kernel elements: those are encoded one chunk at
// a time (see encode).
type group struct {
	set *nftables.Set
	src []acl.Element
	idx []int32 // positions in src
	// key → position in idx. IPv4 keys (with a port or not) fit a
	// uint64, which hashes several times faster than a 20-byte array.
	index4 map[uint64]int32
	index6 map[elemKey]int32
}

// elemKey is an IPv6 set element key as a map key: the longest, address
// and port, is 20 bytes. An array avoids one allocation per element.
type elemKey [maxKeyLen]byte

const maxKeyLen = 20

// groups is a batch's elements by set, in the order sets were first used.
type groups struct {
	order []*group
	by    map[string]*group
}

func newGroups() *groups { return &groups{by: map[string]*group{}} }

// newGroup adds an empty group for set s, sized for hint elements.
func (g *groups) newGroup(s *nftables.Set, src []acl.Element, hint int) *group {
	gr := &group{set: s, src: src, idx: make([]int32, 0, hint)}
	if s.KeyType.Bytes <= 8 {
		gr.index4 = make(map[uint64]int32, hint)
	} else {
		gr.index6 = make(map[elemKey]int32, hint)
	}
	g.by[s.Name] = gr
	g.order = append(g.order, gr)
	return gr
}

// add records src[i]; a later element with the same key replaces an
// earlier one.
func (gr *group) add(i int) {
	var k elemKey
	key := appendKey(k[:0], gr.src[i])
	var at int32
	var ok bool
	if gr.index4 != nil {
		var k4 [8]byte
		copy(k4[:], key)
		k64 := binary.NativeEndian.Uint64(k4[:])
		if at, ok = gr.index4[k64]; !ok {
			gr.index4[k64] = int32(len(gr.idx))
		}
	} else if at, ok = gr.index6[k]; !ok {
		gr.index6[k] = int32(len(gr.idx))
	}
	if ok {
		gr.idx[at] = int32(i)
		return
	}
	gr.idx = append(gr.idx, int32(i))
}

func (g *groups) len() int {
	n := 0
	for _, gr := range g.order {
		n += len(gr.idx)
	}
	return n
}

// count returns how many elements go to the set called name.
func (g *groups) count(name string) int {
	if gr := g.by[name]; gr != nil {
		return len(gr.idx)
	}
	return 0
}

// without returns g minus the groups of the named sets.
func (g *groups) without(names ...string) *groups {
	out := newGroups()
	for _, gr := range g.order {
		if !slices.Contains(names, gr.set.Name) {
			out.order = append(out.order, gr)
			out.by[gr.set.Name] = gr
		}
	}
	return out
}

// encode calls fn with the group's elements encoded as element message
// bodies (see elemWriter), at most chunkSize to a message, keys only when
// keysOnly (a delete names the key only).
func (gr *group) encode(keysOnly bool, fn func(data []byte, n int) error) error {
	var key elemKey
	for _, part := range chunked(gr.idx, chunkSize) {
		w := newElemWriter(gr.set, len(part))
		for _, i := range part {
			e := gr.src[i]
			var t time.Duration
			if !keysOnly {
				t = timeout(e)
			}
			w.add(appendKey(key[:0], e), t, false)
		}
		if err := fn(w.bytes(), len(part)); err != nil {
			return err
		}
	}
	return nil
}

// encodeSet encodes elements the layout built for an interval set (no
// timeouts), at most chunkSize to a message.
func encodeSet(s *nftables.Set, es []nftables.SetElement, fn func(data []byte, n int) error) error {
	for _, part := range chunked(es, chunkSize) {
		w := newElemWriter(s, len(part))
		for _, e := range part {
			w.add(e.Key, e.Timeout, e.IntervalEnd)
		}
		if err := fn(w.bytes(), len(part)); err != nil {
			return err
		}
	}
	return nil
}

// setFor validates e and returns the set it belongs to. IPv4-mapped IPv6
// addresses go to the IPv4 sets, as the kernel sees such traffic as IPv4.
func (l *layout) setFor(e acl.Element) (*nftables.Set, error) {
	a := e.Addr.Unmap()
	if !a.IsValid() {
		return nil, fmt.Errorf("element address %q: %w", e.Addr, core.ErrInvalid)
	}
	if e.Timeout < 0 {
		return nil, fmt.Errorf("element %s timeout %s: %w", a, e.Timeout, core.ErrInvalid)
	}
	v6 := 0
	if a.Is6() {
		v6 = 1
	}
	switch e.Kind {
	case acl.KindBan, acl.KindBanPort, acl.KindGrey:
		return l.elemSets[e.Kind][v6], nil
	}
	return nil, fmt.Errorf("element %s kind %d: %w", a, e.Kind, core.ErrInvalid)
}

// appendKey appends e's key to dst: the address, and for a per-port ban
// the port, padded to a 32-bit register of its own.
func appendKey(dst []byte, e acl.Element) []byte {
	a := e.Addr.Unmap()
	if a.Is4() {
		b := a.As4()
		dst = append(dst, b[:]...)
	} else {
		b := a.As16()
		dst = append(dst, b[:]...)
	}
	if e.Kind == acl.KindBanPort {
		dst = append(dst, byte(e.Port>>8), byte(e.Port), 0, 0)
	}
	return dst
}

// timeout returns e's timeout for the kernel, which counts milliseconds:
// a sub-millisecond rest must not become zero, which means "for good".
func timeout(e acl.Element) time.Duration {
	if e.Timeout > 0 && e.Timeout < time.Millisecond {
		return time.Millisecond
	}
	return e.Timeout
}

func addrKey(a netip.Addr) []byte {
	return appendKey(nil, acl.Element{Addr: a})
}

// elementGroups validates es and groups them by set. A first pass counts
// the elements per set, so that each group is allocated once.
func (l *layout) elementGroups(es []acl.Element) (*groups, error) {
	var sets []*nftables.Set // at most six
	var counts []int
	which := make([]uint8, len(es)) // es[i] goes to sets[which[i]]
	for i, e := range es {
		s, err := l.setFor(e)
		if err != nil {
			return nil, err
		}
		j := slices.Index(sets, s)
		if j < 0 {
			j = len(sets)
			sets, counts = append(sets, s), append(counts, 0)
		}
		counts[j]++
		which[i] = uint8(j)
	}
	g := newGroups()
	grs := make([]*group, len(sets))
	for j, s := range sets {
		grs[j] = g.newGroup(s, es, counts[j])
	}
	for i, j := range which {
		grs[j].add(i)
	}
	return g, nil
}

// intervalElements encodes ranges the way nft does: a start element, and
// an interval-end element one past the range unless the range runs to the
// family's highest address.
func intervalElements(rs []addrRange) []nftables.SetElement {
	out := make([]nftables.SetElement, 0, 2*len(rs))
	for _, r := range rs {
		out = append(out, nftables.SetElement{Key: addrKey(r.From)})
		if next := r.To.Next(); next.IsValid() {
			out = append(out, nftables.SetElement{Key: addrKey(next), IntervalEnd: true})
		}
	}
	return out
}

// netElements returns the four interval sets' elements for trust and
// bannets, merged.
func (l *layout) netElements(trust, banNets []netip.Prefix) (map[string][]nftables.SetElement, error) {
	t4, t6, err := mergePrefixes(trust)
	if err != nil {
		return nil, fmt.Errorf("trust: %w", err)
	}
	b4, b6, err := mergePrefixes(banNets)
	if err != nil {
		return nil, fmt.Errorf("ban nets: %w", err)
	}
	return map[string][]nftables.SetElement{
		setTrust4: intervalElements(t4), setTrust6: intervalElements(t6),
		setBanNet4: intervalElements(b4), setBanNet6: intervalElements(b6),
	}, nil
}

// elementBytes bounds the encoded size of one element, for sizing the
// socket's send buffer before a batch.
const elementBytes = 64
