package web

import (
	"github.com/edgeward/edgeward/web/internal/httpx"
	"math"
	"strings"
	"time"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/auth"
	"github.com/edgeward/edgeward/core/jobs"
	"github.com/gofiber/fiber/v2"
)

type paramsJSON struct {
	Anonymize     bool `json:"anonymize"`
	BundleFor     bool `json:"bundle_for"`
	BundleForTime int  `json:"bundle_for_time,omitempty"`
	LogFileCount  int  `json:"log_file_count"`
}

type resultJSON struct {
	UploadKey string `json:"upload_key,omitempty"`
}

type workloadJSON struct {
	Type       string     `json:"type"`
	Parameters paramsJSON `json:"parameters"`
	Result     resultJSON `json:"result"`
}

type jobJSON struct {
	ID           string       `json:"id"`
	PeerID       string       `json:"peer_id"`
	Status       string       `json:"status"`
	CreatedAt    time.Time    `json:"created_at"`
	UpdatedAt    time.Time    `json:"updated_at"`
	CompletedAt  *time.Time   `json:"completed_at,omitempty"`
	TriggeredBy  string       `json:"triggered_by"`
	FailedReason string       `json:"failed_reason,omitempty"`
	Workload     workloadJSON `json:"workload"`
}

func toJobJSON(j jobs.Job) jobJSON {
	out := jobJSON{ID: j.ID, PeerID: j.PeerID, Status: j.Status, CreatedAt: j.CreatedAt, UpdatedAt: j.UpdatedAt,
		TriggeredBy: j.TriggeredBy, FailedReason: j.FailedReason,
		Workload: workloadJSON{Type: j.Type, Parameters: paramsJSON(j.Params), Result: resultJSON{UploadKey: j.UploadKey}}}
	if !j.CompletedAt.IsZero() {
		t := j.CompletedAt
		out.CompletedAt = &t
	}
	return out
}

type jobReq struct {
	Workload *struct {
		Type       *string `json:"type"`
		Parameters *struct {
			Anonymize     bool     `json:"anonymize"`
			BundleFor     bool     `json:"bundle_for"`
			BundleForTime *float64 `json:"bundle_for_time"`
			LogFileCount  *float64 `json:"log_file_count"`
		} `json:"parameters"`
	} `json:"workload"`
}

func (a *api_) createJob(c *fiber.Ctx) error {
	var req jobReq
	if err := httpx.Decode(c, &req); err != nil {
		return a.fail(c, err)
	}
	v := &core.ValidationError{}
	if req.Workload == nil {
		return a.fail(c, core.Invalid("workload", "is required"))
	}
	if req.Workload.Type == nil {
		v.Add("workload.type", "is required")
	}
	var p jobs.Params
	if wp := req.Workload.Parameters; wp != nil {
		p.Anonymize, p.BundleFor = wp.Anonymize, wp.BundleFor
		p.BundleForTime = wholeNumber(v, "workload.parameters.bundle_for_time", wp.BundleForTime)
		p.LogFileCount = wholeNumber(v, "workload.parameters.log_file_count", wp.LogFileCount)
	}
	if err := v.Err(); err != nil {
		return a.fail(c, err)
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	j, err := a.d.Jobs.Create(cx, c.Params("id"), *req.Workload.Type, p, httpx.Caller(c).ID)
	if err != nil {
		return a.fail(c, err)
	}
	return ok(c, toJobJSON(j))
}

// wholeNumber accepts the seed's "number" type but only whole values.
func wholeNumber(v *core.ValidationError, field string, f *float64) int {
	if f == nil {
		return 0
	}
	if *f != math.Trunc(*f) || *f < 1 || *f > 100000 {
		v.Add(field, "must be a whole number in range")
		return 0
	}
	return int(*f)
}

func (a *api_) listJobs(c *fiber.Ctx) error {
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	js, err := a.d.Jobs.List(cx, c.Params("id"))
	if err != nil {
		return a.fail(c, err)
	}
	out := make([]jobJSON, len(js))
	for i, j := range js {
		out[i] = toJobJSON(j)
	}
	return ok(c, out)
}

func (a *api_) getJob(c *fiber.Ctx) error {
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	j, err := a.d.Jobs.Get(cx, c.Params("id"), c.Params("job"))
	if err != nil {
		return a.fail(c, err)
	}
	return ok(c, toJobJSON(j))
}

// downloadBundle serves a finished bundle to admins only: it holds logs and
// the firewall ruleset.
func (a *api_) downloadBundle(c *fiber.Ctx) error {
	if httpx.Caller(c).Role != auth.RoleAdmin {
		return a.fail(c, &core.Error{Kind: core.ErrPermission, Msg: "downloading a bundle needs an admin token"})
	}
	if err := sendBundle(c, a.d.Jobs, c.Params("sum")+"/"+c.Params("uuid")); err != nil {
		return a.fail(c, err)
	}
	return nil
}

// sendBundle streams the bundle with this upload key ("sha256/uuid") as a
// download; Jobs.Open checks the file against its hash. The API and the
// peer page both serve bundles through it.
func sendBundle(c *fiber.Ctx, js *jobs.Service, key string) error {
	f, size, err := js.Open(key)
	if err != nil {
		return err
	}
	_, uuid, _ := strings.Cut(key, "/")
	c.Set(fiber.HeaderContentType, "application/gzip")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="edgeward-bundle-`+uuid+`.tar.gz"`)
	return c.SendStream(f, int(size))
}
