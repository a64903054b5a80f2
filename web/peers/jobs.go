package peers

import (
	"math"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/auth"
	"github.com/edgeward/edgeward/core/jobs"
	"github.com/edgeward/edgeward/web/internal/httpx"
)

// paramsJSON is the original's BundleParameters: every field is required
// there, so bundle_for_time is written even when it is 0.
type paramsJSON struct {
	Anonymize     bool `json:"anonymize"`
	BundleFor     bool `json:"bundle_for"`
	BundleForTime int  `json:"bundle_for_time"`
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

// failJob writes a refused job request as the original does: a bad
// parameter and a peer that already has a pending job are both 400.
func (h *handler) failJob(c *fiber.Ctx, err error) error {
	f := httpx.Classify(err)
	if f.Status == fiber.StatusUnprocessableEntity || f.Status == fiber.StatusConflict {
		return c.Status(fiber.StatusBadRequest).JSON(Error{Message: f.Msg, Code: fiber.StatusBadRequest, Field: f.Field})
	}
	return h.fail(c, err)
}

func (h *handler) createJob(c *fiber.Ctx) error {
	var req jobReq
	if err := httpx.Decode(c, &req); err != nil {
		return h.failJob(c, err)
	}
	v := &core.ValidationError{}
	if req.Workload == nil {
		return h.failJob(c, core.Invalid("workload", "is required"))
	}
	if req.Workload.Type == nil {
		v.Add("workload.type", "is required")
	}
	var p jobs.Params
	if wp := req.Workload.Parameters; wp != nil {
		p.Anonymize, p.BundleFor = wp.Anonymize, wp.BundleFor
		// The ranges are the core's to check: bundle_for_time only
		// matters, and is only checked, with bundle_for.
		p.BundleForTime = wholeNumber(v, "workload.parameters.bundle_for_time", wp.BundleForTime)
		p.LogFileCount = wholeNumber(v, "workload.parameters.log_file_count", wp.LogFileCount)
		// The core reads a log_file_count of 0 as "the default"; a client
		// that sends 0 asks for none, which the original refuses too.
		if wp.LogFileCount != nil && *wp.LogFileCount == 0 {
			v.Add("workload.parameters.log_file_count", "must be from 1 to 1000")
		}
	}
	if err := v.Err(); err != nil {
		return h.failJob(c, err)
	}
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	j, err := h.d.Jobs.Create(cx, c.Params("id"), *req.Workload.Type, p, httpx.Caller(c).ID)
	if err != nil {
		return h.failJob(c, err)
	}
	return httpx.OK(c, toJobJSON(j))
}

// wholeNumber accepts the seed's "number" type but only whole values that
// fit the parameters; absent is 0, as NetBird's client sends when unused.
func wholeNumber(v *core.ValidationError, field string, f *float64) int {
	if f == nil {
		return 0
	}
	if *f != math.Trunc(*f) || *f < -maxParam || *f > maxParam {
		v.Add(field, "must be a whole number")
		return 0
	}
	return int(*f)
}

// maxParam bounds a parameter well above any range the core accepts, so
// the conversion to int cannot overflow.
const maxParam = 100000

func (h *handler) listJobs(c *fiber.Ctx) error {
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	js, err := h.d.Jobs.List(cx, c.Params("id"))
	if err != nil {
		return h.fail(c, err)
	}
	out := make([]jobJSON, len(js))
	for i, j := range js {
		out[i] = toJobJSON(j)
	}
	return httpx.OK(c, out)
}

func (h *handler) getJob(c *fiber.Ctx) error {
	cx, cancel := httpx.Ctx(c)
	defer cancel()
	j, err := h.d.Jobs.Get(cx, c.Params("id"), c.Params("job"))
	if err != nil {
		return h.fail(c, err)
	}
	return httpx.OK(c, toJobJSON(j))
}

// downloadBundle serves a finished bundle to admins only: it holds logs and
// the firewall ruleset.
func (h *handler) downloadBundle(c *fiber.Ctx) error {
	if httpx.Caller(c).Role != auth.RoleAdmin {
		return h.fail(c, &core.Error{Kind: core.ErrPermission, Msg: "downloading a bundle needs an admin token"})
	}
	if err := sendBundle(c, h.d.Jobs, c.Params("sum")+"/"+c.Params("uuid")); err != nil {
		return h.fail(c, err)
	}
	return nil
}

// sendBundle streams the bundle with this upload key ("sha256/uuid") as a
// download; Jobs.Open checks the file against its hash.
func sendBundle(c *fiber.Ctx, js Jobs, key string) error {
	f, size, err := js.Open(key)
	if err != nil {
		return err
	}
	_, uuid, _ := strings.Cut(key, "/")
	c.Set(fiber.HeaderContentType, "application/gzip")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="edgeward-bundle-`+uuid+`.tar.gz"`)
	httpx.NoStore(c)
	return c.SendStream(f, int(size))
}
