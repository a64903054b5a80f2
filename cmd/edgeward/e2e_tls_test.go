package main

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTLSSelfSigned serves HTTPS with the certificate made on first start:
// a client that trusts that certificate (and nothing else) gets the API
// and the pages, the pages' cookies are Secure and __Host-, the key is
// private, a restart keeps the certificate, and plain HTTP gets nothing.
func TestTLSSelfSigned(t *testing.T) {
	dir := t.TempDir()
	s := start(t, dir, "--tls-self-signed", "--node-name", "gw-test")
	if !strings.HasPrefix(s.base, "https://") {
		t.Fatalf("base %s", s.base)
	}
	certPEM, err := os.ReadFile(filepath.Join(dir, "tls.crt"))
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, "tls.key")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("tls.key: %v, %v", fi.Mode(), err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(certPEM) {
		t.Fatal("tls.crt holds no certificate")
	}
	s.client = &http.Client{
		Transport:     &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	s.call(http.MethodGet, "/api/peers", nil, http.StatusOK)

	res, err := s.client.Get(s.base + "/setup")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var csrf *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == "__Host-edgeward_csrf" {
			csrf = c
		}
	}
	if res.StatusCode != http.StatusOK || csrf == nil || !csrf.Secure || !csrf.HttpOnly {
		t.Errorf("GET /setup over TLS: %d, csrf cookie %+v", res.StatusCode, csrf)
	}

	// The certificate names the node.
	cert := res.TLS.PeerCertificates[0]
	if !strings.Contains(strings.Join(cert.DNSNames, " "), "gw-test") {
		t.Errorf("certificate names %v", cert.DNSNames)
	}
	// Plain HTTP to the TLS port gets no API answer.
	if res, err := http.Get("http" + strings.TrimPrefix(s.base, "https") + "/api/peers"); err == nil {
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP to the TLS port: %d", res.StatusCode)
		}
	}
	s.stopGracefully(t)

	s = start(t, dir, "--tls-self-signed", "--node-name", "gw-test")
	again, err := os.ReadFile(filepath.Join(dir, "tls.crt"))
	if err != nil || string(again) != string(certPEM) {
		t.Errorf("restart made a new certificate (%v)", err)
	}
	s.client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	s.call(http.MethodGet, "/api/peers", nil, http.StatusOK)
}

func TestTLSFlags(t *testing.T) {
	for _, args := range [][]string{{"--tls-cert", "a.pem"}, {"--tls-key", "k.pem"},
		{"--tls-cert", "a.pem", "--tls-key", "k.pem", "--tls-self-signed"}} {
		if _, err := parseServe(args, new(strings.Builder), func(string) (string, bool) { return "", false }); err == nil {
			t.Errorf("parseServe(%v) accepted", args)
		}
	}
}
