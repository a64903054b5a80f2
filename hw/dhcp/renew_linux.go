//go:build linux

package dhcp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strings"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/nclient4"
)

var errLeaseExpired = errors.New("lease expired")

// hold keeps the lease held until it is lost or ctx is done: RENEWING from
// T1 (unicast to the server), REBINDING from T2 (broadcast to any server),
// dropped at expiry or on a NAK (RFC 2131 §4.4.5).
func (s *session) hold(ctx context.Context) {
	for ctx.Err() == nil {
		renew, rebind, expire := s.c.schedule(s.lease)
		end := s.lease.Obtained.Add(expire)
		t2 := minTime(s.lease.Obtained.Add(rebind), end)
		t1 := minTime(s.lease.Obtained.Add(renew), t2)
		if !sleep(ctx, time.Until(t1)) {
			return
		}
		ack, err := s.extend(ctx, t2, s.uc.RemoteAddr())
		if ack == nil && err == nil {
			ack, err = s.extend(ctx, end, &net.UDPAddr{IP: net.IPv4bcast, Port: nclient4.ServerPort})
		}
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			s.drop(ctx, err)
			return
		case ack == nil:
			s.drop(ctx, errLeaseExpired)
			return
		}
		if err := s.bind(ctx, ack); err != nil {
			// The kernel refused the extended lease: start over clean.
			s.drop(ctx, fmt.Errorf("apply extended lease: %w", err))
			return
		}
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// extend asks dest to extend the lease until the deadline passes. It
// returns the ACK, or a nil ACK and a nil error when no server answered in
// time, or an error for a NAK.
func (s *session) extend(ctx context.Context, deadline time.Time, dest *net.UDPAddr) (*dhcpv4.DHCPv4, error) {
	if !time.Now().Before(deadline) {
		return nil, nil
	}
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	for {
		ack, err := s.request(ctx, dest)
		if err == nil {
			return ack, nil
		}
		var nak *nclient4.ErrNak
		if errors.As(err, &nak) {
			return nil, fmt.Errorf("server %s refused %s", dest.IP, s.lease.Addr)
		}
		if ctx.Err() != nil {
			return nil, nil
		}
		wait := retryWait(time.Until(deadline))
		s.c.log.Warn("dhcp lease not extended", "server", dest.IP, "err", err, "retry_in", wait)
		if !sleep(ctx, wait) {
			return nil, nil
		}
	}
}

// request sends one REQUEST for the lease held (ciaddr set, no server
// identifier: RFC 2131 §4.3.2 RENEWING/REBINDING) and waits for the answer.
func (s *session) request(ctx context.Context, dest *net.UDPAddr) (*dhcpv4.DHCPv4, error) {
	xid, err := dhcpv4.GenerateTransactionID()
	if err != nil {
		return nil, err
	}
	// NewRenewFromAck reuses the ACK's transaction id; each exchange gets
	// its own.
	req, err := dhcpv4.NewRenewFromAck(s.ack,
		dhcpv4.WithRequestedOptions(requested...),
		dhcpv4.WithTransactionID(xid),
		dhcpv4.WithOption(dhcpv4.OptMaxMessageSize(nclient4.MaxMessageSize)))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	resp, err := s.uc.SendAndRead(ctx, dest, req,
		nclient4.IsMessageType(dhcpv4.MessageTypeAck, dhcpv4.MessageTypeNak))
	if err != nil {
		return nil, err
	}
	if resp.MessageType() == dhcpv4.MessageTypeNak {
		return nil, &nclient4.ErrNak{Offer: s.ack, Nak: resp}
	}
	return resp, nil
}

// retryWait is how long to wait before asking again when left remains
// until the next stage: half of it, but at least a minute (RFC 2131
// §4.4.5), and never past the stage.
func retryWait(left time.Duration) time.Duration {
	wait := max(left/2, time.Minute)
	return max(min(wait, left), 0)
}

// backoff doubles from min to max, with up to 25% random jitter so that
// many clients behind one failed server do not retry in step.
type backoff struct {
	min, max, cur time.Duration
}

func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.min
	} else {
		b.cur = min(b.cur*2, b.max)
	}
	return b.cur - jitter(b.cur/4)
}

func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d)
}

// sleep waits d, and reports false if ctx was done first.
func sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// wireLog shows nclient4's packets at debug level.
type wireLog struct{ log *slog.Logger }

func (w wireLog) Printf(format string, v ...any) {
	w.log.Debug("dhcp", "detail", fmt.Sprintf(format, v...))
}

func (w wireLog) PrintMessage(prefix string, m *dhcpv4.DHCPv4) {
	w.log.Debug("dhcp "+strings.TrimSuffix(prefix, ":"), "type", m.MessageType().String(), "xid", m.TransactionID.String(),
		"yiaddr", m.YourIPAddr.String())
}
