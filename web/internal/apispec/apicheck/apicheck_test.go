package apicheck

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// fakeTB records failures instead of failing the test that uses it.
type fakeTB struct {
	testing.TB
	failed bool
	msgs   []string
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.failed = true
	f.msgs = append(f.msgs, fmt.Sprintf(format, args...))
}

func TestResponseSelfTest(t *testing.T) {
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	auth := http.Header{"Authorization": {"Token ewt_x"}}
	gz := http.Header{"Content-Type": {"application/gzip"}}
	sum := strings.Repeat("a", 64)
	for _, tc := range []struct {
		name         string
		method, path string
		status       int
		header       http.Header
		body         string
		wantErr      string // empty: the response must pass
	}{
		{"apiError 404", "GET", "/api/peers/abc", 404, jsonHeader, `{"message":"peer not found: abc","code":404}`, ""},
		{"apiError with field", "PUT", "/api/peers/abc", 422, jsonHeader, `{"message":"name: is required","code":422,"field":"name"}`, ""},
		{"code is a string", "GET", "/api/peers/abc", 404, jsonHeader, `{"message":"peer not found: abc","code":"x"}`, "code"},
		{"message missing", "GET", "/api/peers/abc", 404, jsonHeader, `{"code":404}`, "message"},
		{"undocumented status", "GET", "/api/peers/abc", 418, jsonHeader, `{"message":"teapot","code":418}`, "status"},
		{"empty delete", "DELETE", "/api/peers/abc", 200, jsonHeader, `{}`, ""},
		{"delete with a body", "DELETE", "/api/peers/abc", 200, jsonHeader, `{"ok":true}`, "ok"},
		{"empty list", "GET", "/api/peers?name=x", 200, jsonHeader, `[]`, ""},
		{"list is not an object", "GET", "/api/peers", 200, jsonHeader, `{}`, "array"},
		{"bundle", "GET", "/api/bundles/" + sum + "/0b6b2a46-4d0f-4d43-9d4b-7c5c8f0f4b1e", 200, gz, "\x1f\x8b\x08\x00", ""},
		{"unknown route", "GET", "/api/nope", 404, jsonHeader, `{"message":"Cannot GET /api/nope","code":404}`, ""},
		{"unknown route answered 200", "GET", "/api/nope", 200, jsonHeader, `{}`, "no operation"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := Validate(tc.method, tc.path, auth, tc.status, tc.header, []byte(tc.body))
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("valid response refused: %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("invalid response passed")
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("error %q does not mention %q", err, tc.wantErr)
			}
		})
	}

	// checkResponse itself: passes silently, and fails naming the request.
	ok := &fakeTB{TB: t}
	Response(ok, "GET", "/api/peers/abc", auth, 404, jsonHeader, []byte(`{"message":"peer not found: abc","code":404}`))
	if ok.failed {
		t.Fatalf("valid response failed: %v", ok.msgs)
	}
	bad := &fakeTB{TB: t}
	Response(bad, "GET", "/api/peers/abc", auth, 404, jsonHeader, []byte(`{"message":"peer not found: abc","code":"x"}`))
	if !bad.failed || !strings.Contains(strings.Join(bad.msgs, "\n"), "GET /api/peers/abc") {
		t.Fatalf("invalid response not reported with its request: %v", bad.msgs)
	}
}
