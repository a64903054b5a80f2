//go:build linux

package dhcp

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"sync"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"golang.org/x/sys/unix"
)

// sent is one DHCP message that reached the server's link.
type sent struct {
	Type     string
	Src, Dst netip.Addr
}

// sniffer records what the client sends to port 67, as seen on ews in S,
// to tell unicast renewals from broadcast ones.
type sniffer struct {
	mu   sync.Mutex
	msgs []sent
}

func (sn *sniffer) requests() []sent {
	sn.mu.Lock()
	defer sn.mu.Unlock()
	var out []sent
	for _, m := range sn.msgs {
		if m.Type == dhcpv4.MessageTypeRequest.String() {
			out = append(out, m)
		}
	}
	return out
}

func (l *lab) sniff(t *testing.T) *sniffer {
	t.Helper()
	var f *os.File
	err := inNetNS(l.sFD, func() error {
		ifi, err := net.InterfaceByName("ews")
		if err != nil {
			return err
		}
		proto := binary.BigEndian.Uint16(binary.NativeEndian.AppendUint16(nil, unix.ETH_P_IP)) // htons
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, int(proto))
		if err != nil {
			return err
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: proto, Ifindex: ifi.Index}); err != nil {
			unix.Close(fd)
			return err
		}
		f = os.NewFile(uintptr(fd), "packet")
		return nil
	})
	if err != nil {
		t.Fatalf("open packet socket in %s: %v", l.s, err)
	}
	sn := &sniffer{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			n, err := f.Read(buf)
			if err != nil {
				return
			}
			if m, ok := parseDHCP(buf[:n]); ok {
				sn.mu.Lock()
				sn.msgs = append(sn.msgs, m)
				sn.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { f.Close(); <-done })
	return sn
}

// parseDHCP reads an IPv4 packet carrying a DHCP message to port 67.
func parseDHCP(b []byte) (sent, bool) {
	if len(b) < 20 || b[0]>>4 != 4 || b[9] != unix.IPPROTO_UDP {
		return sent{}, false
	}
	udp := b[int(b[0]&0x0f)*4:]
	if len(udp) < 8 || int(udp[2])<<8|int(udp[3]) != 67 {
		return sent{}, false
	}
	m, err := dhcpv4.FromBytes(udp[8:])
	if err != nil {
		return sent{}, false
	}
	return sent{
		Type: m.MessageType().String(),
		Src:  netip.AddrFrom4([4]byte(b[12:16])),
		Dst:  netip.AddrFrom4([4]byte(b[16:20])),
	}, true
}
