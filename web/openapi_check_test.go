package web

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// openAPIDoc is openapi.json loaded, validated and routed once per test run.
var openAPIDoc struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

func loadOpenAPI() (*openapi3.T, routers.Router, error) {
	openAPIDoc.once.Do(func() {
		// Bundles are served as application/gzip; read them as opaque bytes.
		openapi3filter.RegisterBodyDecoder("application/gzip", openapi3filter.FileBodyDecoder)
		doc, err := openapi3.NewLoader().LoadFromData(OpenAPI)
		if err != nil {
			openAPIDoc.err = fmt.Errorf("load openapi.json: %w", err)
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			openAPIDoc.err = fmt.Errorf("openapi.json is not valid: %w", err)
			return
		}
		// The legacy router matches paths like gorillamux does for this
		// document, without the gorilla/mux module, which go.mod lacks.
		r, err := legacy.NewRouter(doc)
		if err != nil {
			openAPIDoc.err = fmt.Errorf("route openapi.json: %w", err)
			return
		}
		openAPIDoc.doc, openAPIDoc.router = doc, r
	})
	return openAPIDoc.doc, openAPIDoc.router, openAPIDoc.err
}

var openAPIOptions = &openapi3filter.Options{
	IncludeResponseStatus: true,
	AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
}

// validateResponse checks one response of the API against openapi.json:
// the status must be documented for the operation, and the body must match
// the documented schema. path may carry a query string. A request for a
// path or method the document does not have must have been refused with
// 401, 404 or 405 and an apiError body, as fiber does for unknown routes.
func validateResponse(method, path string, reqHeader http.Header, status int, respHeader http.Header, body []byte) error {
	doc, router, err := loadOpenAPI()
	if err != nil {
		return err
	}
	req, err := http.NewRequest(method, "http://localhost"+path, nil)
	if err != nil {
		return fmt.Errorf("bad request URL: %w", err)
	}
	if reqHeader != nil {
		req.Header = reqHeader.Clone()
	}
	if respHeader == nil {
		respHeader = http.Header{}
	}
	// The document's server is "/": route on the path alone, since the
	// legacy router matches a relative server against the whole URL.
	routed := req.Clone(context.Background())
	routed.URL = &url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath}
	route, params, err := router.FindRoute(routed)
	if err != nil {
		var re *routers.RouteError
		if !errors.As(err, &re) {
			return fmt.Errorf("find operation: %w", err)
		}
		switch status {
		case http.StatusUnauthorized, http.StatusNotFound, http.StatusMethodNotAllowed:
			return checkErrorBody(doc, respHeader, body)
		}
		return fmt.Errorf("no operation in openapi.json (%v), yet the server answered %d", err, status)
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: params,
			Route:      route,
			Options:    openAPIOptions,
		},
		Status:  status,
		Header:  respHeader,
		Options: openAPIOptions,
	}
	input.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(context.Background(), input)
}

// checkErrorBody checks that a response off the documented routes is a JSON
// apiError.
func checkErrorBody(doc *openapi3.T, h http.Header, body []byte) error {
	ct, _, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || ct != "application/json" {
		return fmt.Errorf("undocumented route answered with content type %q, want application/json", h.Get("Content-Type"))
	}
	var v any
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&v); err != nil {
		return fmt.Errorf("undocumented route answered with a body that is not JSON: %w", err)
	}
	schema := doc.Components.Schemas["apiError"]
	if schema == nil || schema.Value == nil {
		return errors.New("openapi.json has no apiError schema")
	}
	if err := schema.Value.VisitJSON(v); err != nil {
		return fmt.Errorf("undocumented route answered with a body that is not an apiError: %w", err)
	}
	return nil
}

// checkResponse fails t when a response does not match openapi.json.
func checkResponse(t testing.TB, method, path string, reqHeader http.Header, status int, respHeader http.Header, body []byte) {
	t.Helper()
	if err := validateResponse(method, path, reqHeader, status, respHeader, body); err != nil {
		t.Errorf("%s %s: response %d does not match openapi.json: %v\nbody: %s", method, path, status, err, shorten(body, 512))
	}
}

func shorten(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}

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

func TestCheckResponseSelfTest(t *testing.T) {
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
			err := validateResponse(tc.method, tc.path, auth, tc.status, tc.header, []byte(tc.body))
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
	checkResponse(ok, "GET", "/api/peers/abc", auth, 404, jsonHeader, []byte(`{"message":"peer not found: abc","code":404}`))
	if ok.failed {
		t.Fatalf("valid response failed: %v", ok.msgs)
	}
	bad := &fakeTB{TB: t}
	checkResponse(bad, "GET", "/api/peers/abc", auth, 404, jsonHeader, []byte(`{"message":"peer not found: abc","code":"x"}`))
	if !bad.failed || !strings.Contains(strings.Join(bad.msgs, "\n"), "GET /api/peers/abc") {
		t.Fatalf("invalid response not reported with its request: %v", bad.msgs)
	}
}
