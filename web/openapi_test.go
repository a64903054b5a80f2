package web

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/web/backup"
	"github.com/edgeward/edgeward/web/interfaces"
	"github.com/edgeward/edgeward/web/internal/apispec"
	"github.com/edgeward/edgeward/web/internal/apispec/apicheck"
	"github.com/edgeward/edgeward/web/p2p"
	"github.com/edgeward/edgeward/web/peers"
	"github.com/edgeward/edgeward/web/system"
	"github.com/edgeward/edgeward/web/update"
)

func TestOpenAPIValid(t *testing.T) {
	doc, err := openapi3.NewLoader().LoadFromData(apispec.Document)
	if err != nil {
		t.Fatalf("load openapi.json: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not valid: %v", err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi version %q, want 3.0.3", doc.OpenAPI)
	}
	if len(doc.Security) == 0 {
		t.Error("no global security requirement")
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			name := method + " " + path
			if op.OperationID == "" || op.Summary == "" || len(op.Tags) == 0 {
				t.Errorf("%s: operationId, summary and tags are all required", name)
			}
			// The /v2 dialect answers its writes 202, as the original does.
			if op.Responses.Value("200") == nil && op.Responses.Value("202") == nil {
				t.Errorf("%s: no 200 or 202 response", name)
			}
			// /healthz needs no token and answers plain text.
			if path == "/healthz" {
				continue
			}
			if op.Responses.Value("401") == nil {
				t.Errorf("%s: no 401 response", name)
			}
			for code, r := range op.Responses.Map() {
				if code == "200" || code == "202" {
					continue
				}
				want := errorSchema(path, code)
				mt := r.Value.Content.Get("application/json")
				if mt == nil || mt.Schema == nil || mt.Schema.Ref != "#/components/schemas/"+want {
					t.Errorf("%s: error response %s is not an %s", name, code, want)
				}
			}
		}
	}
}

// errorSchema names the schema of an error response: the /network dialect
// writes its own error lists, except where the shared token middleware
// answers (401, and 403 besides the dialect's own); the /v2 dialect and its
// session login answer every error, the token check's too, as a qError.
func errorSchema(path, code string) string {
	if strings.HasPrefix(path, "/v2/") || strings.HasPrefix(path, "/v1/session/") {
		return "qError"
	}
	if !strings.HasPrefix(path, "/network/") {
		return "apiError"
	}
	switch code {
	case "401":
		return "apiError"
	case "403":
		return "networkForbidden"
	}
	return "networkErrors"
}

// apiRoutes returns "METHOD /path/{param}" for every route fiber has under
// /api, /network and /v2.
func apiRoutes() []string {
	app := fiber.New()
	api := app.Group("/api")
	peers.Mount(api, peers.Deps{})
	backup.Mount(api, backup.Deps{})
	p2p.Mount(app.Group("/network"), p2p.Deps{})
	interfaces.Mount(app, interfaces.Deps{})
	update.Mount(app.Group("/api"), update.Deps{})
	system.Mount(app, system.New(system.Deps{}))
	param := regexp.MustCompile(`:([A-Za-z0-9_]+)`)
	var out []string
	// GetRoutes(true) leaves out middleware such as the /network
	// dialect's answer to unmatched paths.
	for _, r := range app.GetRoutes(true) {
		if r.Method == http.MethodHead || r.Method == "USE" {
			continue
		}
		out = append(out, r.Method+" "+param.ReplaceAllString(r.Path, "{$1}"))
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func TestOpenAPICoversRoutes(t *testing.T) {
	doc, _, err := apicheck.Load()
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	routes := apiRoutes()
	if len(routes) < 20 {
		t.Fatalf("only %d routes found: %v", len(routes), routes)
	}
	if n := len(slices.DeleteFunc(slices.Clone(routes), func(r string) bool { return !strings.Contains(r, " /network/") })); n < 30 {
		t.Fatalf("only %d /network routes found: %v", n, routes)
	}
	served := map[string]bool{}
	for _, r := range routes {
		served[r] = true
		if !documented[r] {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for op := range documented {
		if !served[op] {
			t.Errorf("openapi.json documents %s, which no route serves", op)
		}
	}
}
