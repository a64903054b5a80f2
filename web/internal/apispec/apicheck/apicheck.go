// Package apicheck checks the API against its OpenAPI document in tests:
// a response against its operation, a Go type against its schema. Only
// tests import it, so the binary does not carry the OpenAPI libraries.
package apicheck

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/edgeward/edgeward/web/internal/apispec"
)

// openAPIDoc is openapi.json loaded, validated and routed once per test run.
var openAPIDoc struct {
	once   sync.Once
	doc    *openapi3.T
	router routers.Router
	err    error
}

func Load() (*openapi3.T, routers.Router, error) {
	openAPIDoc.once.Do(func() {
		// Bundles are served as application/gzip; read them as opaque bytes.
		openapi3filter.RegisterBodyDecoder("application/gzip", openapi3filter.FileBodyDecoder)
		doc, err := openapi3.NewLoader().LoadFromData(apispec.Document)
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

// Validate checks one response of the API against openapi.json:
// the status must be documented for the operation, and the body must match
// the documented schema. path may carry a query string. A request for a
// path or method the document does not have must have been refused with
// 401, 404 or 405 and an apiError body, as fiber does for unknown routes.
func Validate(method, path string, reqHeader http.Header, status int, respHeader http.Header, body []byte) error {
	doc, router, err := Load()
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

// Response fails t when a response does not match openapi.json.
func Response(t testing.TB, method, path string, reqHeader http.Header, status int, respHeader http.Header, body []byte) {
	t.Helper()
	if err := Validate(method, path, reqHeader, status, respHeader, body); err != nil {
		t.Errorf("%s %s: response %d does not match openapi.json: %v\nbody: %s", method, path, status, err, Shorten(body, 512))
	}
}

// Shorten cuts b to n bytes for a failure message.
func Shorten(b []byte, n int) string {
	if len(b) <= n {
		return string(b)
	}
	return string(b[:n]) + "…"
}

// Schema compares schema name with the Go type handlers write (response)
// or read: the same JSON field names, compatible JSON types, and for a
// response a field is required exactly when it is not omitempty. without
// lists fields of typ the schema leaves out, alsoRequired omitempty fields
// it still requires.
func Schema(t testing.TB, name string, typ reflect.Type, response bool, without, alsoRequired []string) {
	t.Helper()
	doc, _, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	ref := doc.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		t.Errorf("openapi.json has no schema %s", name)
		return
	}
	compare(t, name, ref.Value, typ, response, without, alsoRequired)
}

func compare(t testing.TB, name string, s *openapi3.Schema, typ reflect.Type, response bool, without, alsoRequired []string) {
	t.Helper()
	fields := map[string]reflect.Type{}
	var wantRequired []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag := f.Tag.Get("json")
		field, opts, _ := strings.Cut(tag, ",")
		if tag == "-" || !f.IsExported() || slices.Contains(without, field) {
			continue
		}
		fields[field] = f.Type
		if !strings.Contains(opts, "omitempty") || slices.Contains(alsoRequired, field) {
			wantRequired = append(wantRequired, field)
		}
	}
	for field, ft := range fields {
		p := s.Properties[field]
		if p == nil || p.Value == nil {
			t.Errorf("schema %s lacks field %s of %s", name, field, typ)
			continue
		}
		if got, want := p.Value.Type.Slice(), jsonTypesOf(ft, !response); !slices.Contains(want, strings.Join(got, ",")) {
			t.Errorf("schema %s field %s has type %v; Go type %s is JSON %v", name, field, got, ft, want)
		}
		if ft == reflect.TypeFor[time.Time]() && p.Value.Format != "date-time" {
			t.Errorf("schema %s field %s: a time needs format date-time", name, field)
		}
	}
	for field := range s.Properties {
		if _, ok := fields[field]; !ok {
			t.Errorf("schema %s has field %s, which %s does not", name, field, typ)
		}
	}
	if response {
		slices.Sort(wantRequired)
		got := slices.Sorted(slices.Values(s.Required))
		if !slices.Equal(got, wantRequired) {
			t.Errorf("schema %s requires %v; %s always writes %v", name, got, typ, wantRequired)
		}
		if s.AdditionalProperties.Has == nil || *s.AdditionalProperties.Has {
			t.Errorf("schema %s should forbid additional properties", name)
		}
		return
	}
	for _, field := range s.Required {
		if ft, ok := fields[field]; ok && ft.Kind() != reflect.Pointer && ft.Kind() != reflect.Slice {
			t.Errorf("schema %s requires %s, but the handler cannot tell it was left out", name, field)
		}
	}
}

// jsonTypesOf lists the schema types that describe Go type t. A request
// number may be documented as integer when the handler wants whole values;
// a response integer as number, as an original's published schema may
// have it (Qumulo's ids and MTUs).
func jsonTypesOf(t reflect.Type, request bool) []string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeFor[time.Time]() {
		return []string{"string"}
	}
	switch t.Kind() {
	case reflect.String:
		return []string{"string"}
	case reflect.Bool:
		return []string{"boolean"}
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if !request {
			return []string{"integer", "number"}
		}
		return []string{"integer"}
	case reflect.Float64, reflect.Float32:
		if request {
			return []string{"number", "integer"}
		}
		return []string{"number"}
	case reflect.Slice, reflect.Array:
		return []string{"array"}
	case reflect.Struct, reflect.Map:
		// A $ref to an object schema: the ref's own type is what counts.
		return []string{"object"}
	}
	return []string{t.Kind().String()}
}
