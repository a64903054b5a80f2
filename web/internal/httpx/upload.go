package httpx

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/edgeward/edgeward/core"
)

// SignedUpload finds a signed file in a request: either the raw body with
// the signature in the X-Signature header (the .minisig file with its
// newlines written as \n), or a multipart form with a "signature" part
// before the "file" part, so the file can be streamed once the signature
// is known. done releases the file part.
func SignedUpload(c *fiber.Ctx) (file io.Reader, sig []byte, done func(), err error) {
	nop := func() {}
	ct, params, _ := mime.ParseMediaType(strings.Clone(c.Get(fiber.HeaderContentType)))
	if ct != "multipart/form-data" {
		h := c.Get("X-Signature")
		if h == "" {
			return nil, nil, nop, malformed("signature", "missing: send the minisign signature in X-Signature or as a multipart field")
		}
		return BodyReader(c), []byte(strings.ReplaceAll(h, `\n`, "\n")), nop, nil
	}
	mr := multipart.NewReader(BodyReader(c), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err != nil {
			return nil, nil, nop, malformed("file", "multipart form without a file part after the signature")
		}
		switch p.FormName() {
		case "signature":
			if sig, err = io.ReadAll(io.LimitReader(p, 4<<10)); err != nil {
				return nil, nil, nop, malformed("signature", "unreadable")
			}
			if sig == nil {
				sig = []byte{} // present but empty: the signature check says so
			}
		case "file":
			if sig == nil {
				return nil, nil, nop, malformed("signature", "the signature part must come before the file part")
			}
			return p, sig, func() { p.Close() }, nil
		}
	}
}

// BodyReader streams a body the server streams (one larger than the app's
// limit, on the routes allowed to take one) and reads any other from
// memory.
func BodyReader(c *fiber.Ctx) io.Reader {
	if c.Request().IsBodyStream() {
		return c.Context().RequestBodyStream()
	}
	return bytes.NewReader(c.Body())
}

// Drain reads up to max bytes the client still sends of a refused upload
// (an early refusal reads none of it), so it gets the answer rather than
// a reset connection.
func Drain(r io.Reader, max int64) { _, _ = io.Copy(io.Discard, io.LimitReader(r, max)) }

func malformed(field, msg string) error {
	return &core.Error{Kind: ErrMalformed, Field: field, Msg: field + ": " + msg}
}
