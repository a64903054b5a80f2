package nic

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Counters is a link's traffic counters as the kernel keeps them.
type Counters struct {
	RxBytes, TxBytes, RxPackets, TxPackets, RxErrors, TxErrors, RxDropped, TxDropped uint64
}

// LinkSnapshot is one link at one moment, as a debug bundle records it.
type LinkSnapshot struct {
	Index     int      `json:"index"`
	Name      string   `json:"name"`
	MAC       string   `json:"mac"`
	MTU       int      `json:"mtu"`
	Flags     string   `json:"flags"`
	OperState string   `json:"operstate"`
	Carrier   string   `json:"carrier"`
	Addresses []string `json:"addresses"`
	Counters  Counters `json:"counters"`
}

// Snapshot reads every link of the current network namespace from the
// kernel (sysfs for state and counters).
func Snapshot() ([]LinkSnapshot, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	out := make([]LinkSnapshot, 0, len(ifs))
	for _, ifi := range ifs {
		s := LinkSnapshot{Index: ifi.Index, Name: ifi.Name, MAC: ifi.HardwareAddr.String(), MTU: ifi.MTU,
			Flags: ifi.Flags.String(), Addresses: []string{}}
		dir := filepath.Join("/sys/class/net", ifi.Name)
		s.OperState = readSys(dir, "operstate")
		s.Carrier = readSys(dir, "carrier")
		if addrs, err := ifi.Addrs(); err == nil {
			for _, a := range addrs {
				s.Addresses = append(s.Addresses, a.String())
			}
		}
		st := filepath.Join(dir, "statistics")
		s.Counters = Counters{
			RxBytes: readU64(st, "rx_bytes"), TxBytes: readU64(st, "tx_bytes"),
			RxPackets: readU64(st, "rx_packets"), TxPackets: readU64(st, "tx_packets"),
			RxErrors: readU64(st, "rx_errors"), TxErrors: readU64(st, "tx_errors"),
			RxDropped: readU64(st, "rx_dropped"), TxDropped: readU64(st, "tx_dropped"),
		}
		out = append(out, s)
	}
	return out, nil
}

// readSys returns a sysfs attribute, or "unknown" where the link has none
// (reading carrier of a down link fails with EINVAL).
func readSys(dir, name string) string {
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		return "unknown"
	}
	return strings.TrimSpace(string(b))
}

func readU64(dir, name string) uint64 {
	n, _ := strconv.ParseUint(readSys(dir, name), 10, 64)
	return n
}

// Totals sums the byte counters of every link but loopback: the traffic
// the router moved.
func Totals(context.Context) (rx, tx uint64, err error) {
	links, err := Snapshot()
	if err != nil {
		return 0, 0, err
	}
	for _, l := range links {
		if l.Name == "lo" {
			continue
		}
		rx += l.Counters.RxBytes
		tx += l.Counters.TxBytes
	}
	return rx, tx, nil
}
