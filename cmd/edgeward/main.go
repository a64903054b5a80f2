package main

import (
	_ "github.com/dgraph-io/badger/v4"
	_ "github.com/gofiber/fiber/v2"
	_ "github.com/google/go-cmp/cmp"
	_ "github.com/rs/xid"
	_ "golang.org/x/crypto/curve25519"
	_ "github.com/getkin/kin-openapi/openapi3"
)

func main() {}
