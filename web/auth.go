package web

import (
	"github.com/edgeward/edgeward/web/internal/httpx"
	"github.com/edgeward/edgeward/web/peers"
	"github.com/gofiber/fiber/v2"
)

// guard is the token check every API route sits behind.
func guard(d Deps) httpx.Guard {
	g := httpx.Guard{Log: d.Log, Tokens: d.Tokens, OnFailure: d.OnAuthFailure}
	if d.ACL != nil {
		g.Banned = d.ACL.Banned
	}
	return g
}

// authenticate is the token check; every dialect's refusals of a token are
// written in the peers dialect's shape, as the OpenAPI document says.
func authenticate(d Deps) fiber.Handler { return guard(d).Authenticate(peers.Deny) }

// adminOnly guards reads that expose more than a viewer should see.
var adminOnly = httpx.AdminOnly(peers.Deny)
