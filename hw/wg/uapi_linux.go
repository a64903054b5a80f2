package wg

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/netip"
	"strconv"
	"time"

	"github.com/edgeward/edgeward/core/tunnel"
	"github.com/edgeward/edgeward/core/wgkey"
)

// readUAPI parses the text of a UAPI get (key=value lines, each peer
// starting at its public_key) into peer stats. It is the embedded
// device's read path: wgctrl's parser over the socket costs about 22
// allocations a peer, this one about 3, which matters when 10,000 peers
// are read every two seconds on a router.
func readUAPI(b []byte) ([]tunnel.PeerStat, error) {
	n := bytes.Count(b, []byte("\npublic_key="))
	out := make([]tunnel.PeerStat, 0, n)
	nets := make([]netip.Prefix, 0, bytes.Count(b, []byte("\nallowed_ip=")))
	var cur *tunnel.PeerStat
	var sec, nsec int64
	first := 0 // where cur's allowed IPs start in nets
	finish := func() {
		if cur != nil && (sec != 0 || nsec != 0) {
			cur.LastHandshake = time.Unix(sec, nsec)
		}
		sec, nsec = 0, 0
	}
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		k, v, ok := bytes.Cut(line, []byte("="))
		if !ok {
			continue
		}
		switch string(k) {
		case "errno":
			if string(v) != "0" {
				return nil, fmt.Errorf("uapi get: errno %s", v)
			}
		case "public_key":
			finish()
			key, err := hexKey(v)
			if err != nil {
				return nil, err
			}
			out = append(out, tunnel.PeerStat{})
			cur, first = &out[len(out)-1], len(nets)
			cur.PublicKey = key.String()
		}
		if cur == nil {
			continue // the device's own fields
		}
		var err error
		switch string(k) {
		case "preshared_key":
			var key wgkey.Key
			if key, err = hexKey(v); err == nil && key != (wgkey.Key{}) {
				cur.PresharedKey = key.String()
			}
		case "endpoint":
			var ap netip.AddrPort
			if ap, err = netip.ParseAddrPort(string(v)); err == nil {
				cur.Endpoint = netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())
			}
		case "allowed_ip":
			var p netip.Prefix
			if p, err = netip.ParsePrefix(string(v)); err == nil {
				// Each peer's allowed IPs are a window of one shared array.
				nets = append(nets, p)
				cur.AllowedIPs = nets[first:len(nets):len(nets)]
			}
		case "last_handshake_time_sec":
			sec, err = strconv.ParseInt(string(v), 10, 64)
		case "last_handshake_time_nsec":
			nsec, err = strconv.ParseInt(string(v), 10, 64)
		case "rx_bytes":
			cur.RxBytes, err = strconv.ParseInt(string(v), 10, 64)
		case "tx_bytes":
			cur.TxBytes, err = strconv.ParseInt(string(v), 10, 64)
		}
		if err != nil {
			return nil, fmt.Errorf("uapi get: %s=%s: %w", k, v, err)
		}
	}
	finish()
	return out, nil
}

func hexKey(v []byte) (wgkey.Key, error) {
	var k wgkey.Key
	if len(v) != 2*len(k) {
		return k, fmt.Errorf("uapi get: key of %d hex digits", len(v))
	}
	_, err := hex.Decode(k[:], v)
	return k, err
}
