package wg

import (
	"context"
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/tunnel"
	"github.com/edgeward/edgeward/core/wgkey"
	"golang.zx2c4.com/wireguard/wgctrl/wgtypes"
)

// Configure adds or replaces the peers in set and removes those in remove,
// in one configuration request: peers named in neither keep their
// sessions and counters. A peer in set gets exactly its allowed IPs
// (masked to their prefixes) and preshared key ("" clears it), and its
// endpoint when that is valid (an invalid one leaves the endpoint the
// device has); removing a peer the device does not hold does nothing.
//
// Malformed keys, prefixes or endpoints, a key twice in set or in both
// lists, and the device's own public key fail with an error matching
// core.ErrInvalid,
// before anything is sent. ctx is checked before the request; the request
// itself is answered by the kernel or the embedded device at once, without
// waiting on the network, and takes no deadline.
func (d *Device) Configure(ctx context.Context, set []tunnel.Peer, remove []string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	cfg, err := peerConfig(set, remove, d.self)
	if err != nil {
		return fmt.Errorf("configure peers: %w", err)
	}
	if len(cfg.Peers) == 0 {
		return nil
	}
	if err := d.lock(); err != nil {
		return err
	}
	defer d.mu.Unlock()
	if err := d.ctl.ConfigureDevice(d.name, cfg); err != nil {
		return fmt.Errorf("configure peers of %s: %w", d.name, deviceErr(err))
	}
	return nil
}

// Peers returns every peer of the device with its endpoint, last
// handshake and byte counters, in the device's order. The device knows one
// endpoint per peer, configured or learnt: it is PeerStat.Endpoint, and
// the embedded Peer.Endpoint stays invalid. A device removed behind its
// back fails with an error matching core.ErrNotFound.
func (d *Device) Peers(ctx context.Context) ([]tunnel.PeerStat, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := d.lock(); err != nil {
		return nil, err
	}
	if d.user != nil {
		defer d.mu.Unlock()
		d.uapi.Reset()
		if err := d.user.dev.IpcGetOperation(&d.uapi); err != nil {
			return nil, fmt.Errorf("read peers of %s: %w", d.name, err)
		}
		return readUAPI(d.uapi.Bytes())
	}
	dev, err := d.ctl.Device(d.name)
	d.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("read peers of %s: %w", d.name, deviceErr(err))
	}
	return peerStats(dev.Peers), nil
}

// wgConfig is a device configuration that touches only what is not nil,
// and never replaces the peer list.
func wgConfig(priv *wgtypes.Key, port *int, peers []wgtypes.PeerConfig) wgtypes.Config {
	return wgtypes.Config{PrivateKey: priv, ListenPort: port, ReplacePeers: false, Peers: peers}
}

func wgtypesKey(k wgkey.Key) wgtypes.Key { return wgtypes.Key(k) }

// peerConfig turns a change of peers into one configuration, or refuses
// it with a *core.ValidationError naming each bad field.
func peerConfig(set []tunnel.Peer, remove []string, self wgkey.Key) (wgtypes.Config, error) {
	v := &core.ValidationError{}
	seen := make(map[wgkey.Key]byte, len(set)+len(remove)) // 's'et or 'r'emove
	n := 0
	for _, p := range set {
		n += len(p.AllowedIPs)
	}
	nets := make([]net.IPNet, n)
	peers := make([]wgtypes.PeerConfig, 0, len(set)+len(remove))
	for i, p := range set {
		k, ok := peerKey(v, i, p.PublicKey, self, seen)
		var psk wgtypes.Key // zero: clears a preshared key set before
		if p.PresharedKey != "" {
			b, err := wgkey.Parse(p.PresharedKey)
			if err != nil {
				v.Add(fmt.Sprintf("set[%d].preshared_key", i), "%s", err)
				ok = false
			}
			psk = wgtypes.Key(b)
		}
		ips := nets[:len(p.AllowedIPs):len(p.AllowedIPs)]
		nets = nets[len(p.AllowedIPs):]
		for j, pfx := range p.AllowedIPs {
			if !pfx.IsValid() {
				v.Add(fmt.Sprintf("set[%d].allowed_ips[%d]", i, j), "must be a prefix such as 100.64.0.2/32")
				ok = false
				continue
			}
			pfx = pfx.Masked()
			ips[j] = net.IPNet{IP: pfx.Addr().AsSlice(), Mask: net.CIDRMask(pfx.Bits(), pfx.Addr().BitLen())}
		}
		ep, epOK := endpoint(p.Endpoint)
		if !epOK {
			v.Add(fmt.Sprintf("set[%d].endpoint", i), "must be a unicast address and a port, such as 198.51.100.7:51820")
			ok = false
		}
		if ok {
			peers = append(peers, wgtypes.PeerConfig{PublicKey: wgtypes.Key(k), PresharedKey: &psk,
				Endpoint: ep, ReplaceAllowedIPs: true, AllowedIPs: ips})
		}
	}
	for i, s := range remove {
		k, err := wgkey.Parse(s)
		switch {
		case err != nil:
			v.Add(fmt.Sprintf("remove[%d]", i), "%s", err)
		case seen[k] == 's':
			v.Add(fmt.Sprintf("remove[%d]", i), "is also in set")
		case seen[k] == 'r': // twice in remove is harmless
		default:
			seen[k] = 'r'
			peers = append(peers, wgtypes.PeerConfig{PublicKey: wgtypes.Key(k), Remove: true})
		}
	}
	if err := v.Err(); err != nil {
		return wgtypes.Config{}, err
	}
	return wgConfig(nil, nil, peers), nil
}

// endpoint converts a peer's endpoint: nil when it is invalid (none), not
// ok when it cannot be sent to.
func endpoint(ap netip.AddrPort) (*net.UDPAddr, bool) {
	if !ap.IsValid() {
		return nil, true
	}
	a := ap.Addr().Unmap()
	if ap.Port() == 0 || a.IsUnspecified() || a.IsMulticast() {
		return nil, false
	}
	return &net.UDPAddr{IP: a.AsSlice(), Port: int(ap.Port()), Zone: a.Zone()}, true
}

// peerKey parses the public key of set[i] and records it in seen; it adds
// what is wrong to v.
func peerKey(v *core.ValidationError, i int, s string, self wgkey.Key, seen map[wgkey.Key]byte) (wgkey.Key, bool) {
	k, err := wgkey.Parse(s)
	switch {
	case err != nil:
		v.Add(fmt.Sprintf("set[%d].public_key", i), "%s", err)
		return k, false
	case k == self:
		v.Add(fmt.Sprintf("set[%d].public_key", i), "is the gateway's own key")
		return k, false
	case seen[k] != 0:
		v.Add(fmt.Sprintf("set[%d].public_key", i), "appears twice")
		return k, false
	}
	seen[k] = 's'
	return k, true
}

// peerStats converts the device's peers. The allowed IPs of all peers
// share one array: with thousands of peers read every few seconds, the
// count of allocations matters more than their size.
func peerStats(ps []wgtypes.Peer) []tunnel.PeerStat {
	n := 0
	for i := range ps {
		n += len(ps[i].AllowedIPs)
	}
	nets := make([]netip.Prefix, n)
	out := make([]tunnel.PeerStat, len(ps))
	for i := range ps {
		p, s := &ps[i], &out[i]
		s.PublicKey = keyString(p.PublicKey)
		if p.PresharedKey != (wgtypes.Key{}) {
			s.PresharedKey = keyString(p.PresharedKey)
		}
		if len(p.AllowedIPs) > 0 {
			s.AllowedIPs = nets[:len(p.AllowedIPs):len(p.AllowedIPs)]
			nets = nets[len(p.AllowedIPs):]
			for j, ipn := range p.AllowedIPs {
				s.AllowedIPs[j] = prefixOf(ipn)
			}
		}
		if p.Endpoint != nil {
			ap := p.Endpoint.AddrPort()
			s.Endpoint = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
		}
		// Never is the epoch for both the kernel and the UAPI.
		if t := p.LastHandshakeTime; !t.IsZero() && !t.Equal(time.Unix(0, 0)) {
			s.LastHandshake = t
		}
		s.RxBytes, s.TxBytes = p.ReceiveBytes, p.TransmitBytes
	}
	return out
}

// keyString is the base64 form of a key, in one allocation.
func keyString(k wgtypes.Key) string {
	var b [44]byte
	return string(base64.StdEncoding.AppendEncode(b[:0], k[:]))
}

// prefixOf converts an allowed IP; IPv4 comes as 4 or 16 bytes.
func prefixOf(n net.IPNet) netip.Prefix {
	a, _ := netip.AddrFromSlice(n.IP)
	ones, bits := n.Mask.Size()
	if bits == 32 {
		a = a.Unmap()
	}
	return netip.PrefixFrom(a, ones)
}
