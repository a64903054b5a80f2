package connlimit

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// serveEcho accepts from l and answers each connection with "ok\n", then
// holds it open until the client closes it.
func serveEcho(t *testing.T, l net.Listener) {
	t.Helper()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = c.Write([]byte("ok\n"))
				_, _ = io.Copy(io.Discard, c)
			}()
		}
	}()
}

// dial connects from the loopback address from and reports whether the
// server answered (true) or closed the connection unanswered (false).
func dial(t *testing.T, addr, from string) (net.Conn, bool) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}, Timeout: 5 * time.Second}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial from %s: %v", from, err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 3)
	_, err = io.ReadFull(c, buf)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("read from %s: %v", from, err)
	}
	return c, err == nil
}

func TestLimits(t *testing.T) {
	tests := []struct {
		name  string
		lim   Limits
		dials []string // source address of each connection, held open in turn
		want  []bool   // whether each was served
	}{
		{"per source", Limits{PerSource: 2},
			[]string{"127.0.0.1", "127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.2", "127.0.0.2"},
			[]bool{true, true, false, true, true, false}},
		{"total", Limits{Total: 3},
			[]string{"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"},
			[]bool{true, true, true, false}},
		{"both", Limits{Total: 3, PerSource: 1},
			[]string{"127.0.0.1", "127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"},
			[]bool{true, false, true, true, false}},
		{"none", Limits{},
			[]string{"127.0.0.1", "127.0.0.1", "127.0.0.1"},
			[]bool{true, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			l := New(raw, tt.lim, nil)
			t.Cleanup(func() { l.Close() })
			serveEcho(t, l)
			var got []bool
			var held []net.Conn
			for _, from := range tt.dials {
				c, ok := dial(t, raw.Addr().String(), from)
				got = append(got, ok)
				held = append(held, c)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("served (-want +got):\n%s", diff)
			}
			// Closing the held connections frees their slots: the first
			// source is served again.
			for _, c := range held {
				c.Close()
			}
			deadline := time.Now().Add(5 * time.Second)
			for l.Open() > 0 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if n := l.Open(); n != 0 {
				t.Fatalf("%d connections still counted after all closed", n)
			}
			c, ok := dial(t, raw.Addr().String(), tt.dials[0])
			defer c.Close()
			if !ok {
				t.Errorf("%s not served after the others closed", tt.dials[0])
			}
		})
	}
}

// failing is a listener whose Accept fails with errs in turn, then
// returns from the real listener.
type failing struct {
	net.Listener
	errs []error
}

func (f *failing) Accept() (net.Conn, error) {
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return nil, err
	}
	return f.Listener.Accept()
}

func TestAcceptRetriesExhaustion(t *testing.T) {
	emfile := &net.OpError{Op: "accept", Net: "tcp", Err: fmt.Errorf("accept4: %w", syscall.EMFILE)}
	enfile := &net.OpError{Op: "accept", Net: "tcp", Err: syscall.ENFILE}
	tests := []struct {
		name      string
		errs      []error
		wantSleep []time.Duration
		wantErr   error
	}{
		{"fd exhaustion waits with growing pauses", []error{emfile, emfile, enfile, emfile},
			[]time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond}, nil},
		{"other errors end Accept", []error{net.ErrClosed}, nil, net.ErrClosed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer raw.Close()
			l := New(&failing{Listener: raw, errs: tt.errs}, Limits{}, nil)
			var slept []time.Duration
			l.sleep = func(d time.Duration) { slept = append(slept, d) }
			go func() {
				if c, err := net.Dial("tcp", raw.Addr().String()); err == nil {
					defer c.Close()
					time.Sleep(time.Second)
				}
			}()
			c, err := l.Accept()
			if c != nil {
				c.Close()
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Accept error %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.wantSleep, slept); diff != "" {
				t.Errorf("pauses (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBackoffIsBounded(t *testing.T) {
	emfile := syscall.EMFILE
	errs := make([]error, 12)
	for i := range errs {
		errs[i] = emfile
	}
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	l := New(&failing{Listener: raw, errs: errs}, Limits{}, nil)
	var longest time.Duration
	l.sleep = func(d time.Duration) { longest = max(longest, d) }
	go func() {
		if c, err := net.Dial("tcp", raw.Addr().String()); err == nil {
			defer c.Close()
			time.Sleep(time.Second)
		}
	}()
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	if longest != maxBackoff {
		t.Errorf("longest pause %v, want %v", longest, maxBackoff)
	}
}
