package main

import (
	"fmt"
	"io"
	"log/slog"
	"log/syslog"
	"net"
	"strconv"
	"strings"
)

// newLogger builds the log: text or JSON lines on w, and with --syslog
// also to the syslog daemon at the record's severity. A daemon that
// cannot be reached is reported in the log and left out: logging must
// never keep the router from starting. close disconnects from syslog.
func newLogger(cfg config, w io.Writer) (log *slog.Logger, close func()) {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	var h slog.Handler = slog.NewTextHandler(w, opts)
	if cfg.LogFormat == "json" {
		h = slog.NewJSONHandler(w, opts)
	}
	if !cfg.Syslog {
		return slog.New(h), func() {}
	}
	network, addr, _ := strings.Cut(cfg.SyslogAddr, ":")
	sw, err := syslog.Dial(network, addr, syslog.LOG_DAEMON|syslog.LOG_INFO, "edgeward")
	if err != nil {
		log = slog.New(h)
		log.Warn("syslog unavailable: logging to stderr only", "addr", cfg.SyslogAddr, "err", err)
		return log, func() {}
	}
	// syslog stamps its own time.
	sh := slog.NewTextHandler(syslogWriter{sw}, &slog.HandlerOptions{Level: cfg.LogLevel,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		}})
	return slog.New(slog.NewMultiHandler(h, sh)), func() { _ = sw.Close() }
}

// syslogWriter sends each record, one Write from the text handler, at the
// severity its level= field names.
type syslogWriter struct{ w *syslog.Writer }

func (s syslogWriter) Write(p []byte) (int, error) {
	line := strings.TrimSuffix(string(p), "\n")
	level := strings.TrimPrefix(line, "level=")
	var err error
	switch {
	case strings.HasPrefix(level, "DEBUG"):
		err = s.w.Debug(line)
	case strings.HasPrefix(level, "WARN"):
		err = s.w.Warning(line)
	case strings.HasPrefix(level, "ERROR"):
		err = s.w.Err(line)
	default:
		err = s.w.Info(line)
	}
	return len(p), err
}

// openURL is the address to open in a browser: the listen address, or
// for one listening on every address, the box's first LAN address among
// ifaddrs (IPv4 first), so the start log names a URL that works from
// another machine.
func openURL(scheme string, listen net.Addr, ifaddrs []net.Addr) string {
	host, port, err := net.SplitHostPort(listen.String())
	if err != nil {
		return scheme + "://" + listen.String() + "/"
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "localhost"
		if lan := lanAddr(ifaddrs); lan != "" {
			host = lan
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port) + "/"
}

// lanAddr is the first global unicast IPv4 address of ifaddrs, else the
// first global unicast IPv6 one, else "".
func lanAddr(ifaddrs []net.Addr) string {
	var v6 string
	for _, a := range ifaddrs {
		n, ok := a.(*net.IPNet)
		if !ok || !n.IP.IsGlobalUnicast() {
			continue
		}
		if n.IP.To4() != nil {
			return n.IP.String()
		}
		if v6 == "" {
			v6 = n.IP.String()
		}
	}
	return v6
}

// parseSyslogAddr checks --syslog-addr: empty (the local daemon) or
// unixgram:PATH, unix:PATH, udp:HOST:PORT, tcp:HOST:PORT.
func parseSyslogAddr(s string) error {
	if s == "" {
		return nil
	}
	network, addr, ok := strings.Cut(s, ":")
	switch {
	case !ok || addr == "":
	case network == "unix" || network == "unixgram":
		return nil
	case network == "udp" || network == "tcp":
		if _, port, err := net.SplitHostPort(addr); err == nil {
			if _, err := strconv.ParseUint(port, 10, 16); err == nil {
				return nil
			}
		}
	}
	return fmt.Errorf("--syslog-addr %q: want unixgram:PATH, unix:PATH, udp:HOST:PORT or tcp:HOST:PORT", s)
}
