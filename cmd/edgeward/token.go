package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"

	"github.com/edgeward/edgeward/core/admin"
	"github.com/edgeward/edgeward/core/auth"
	"github.com/edgeward/edgeward/core/store"
)

// tokenCreate prints a new token. It opens the store itself, so it works
// only while the server is stopped (the store refuses a second opener).
func tokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("token create", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./data", "directory of the store")
	name := fs.String("name", "", "name of the token")
	role := fs.String("role", auth.RoleAdmin, "admin or viewer")
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := store.Open(ctx, store.Options{Dir: storeDir(*data)}, migrations)
	if err != nil {
		return err
	}
	defer db.Close()
	toks, err := auth.New(ctx, db, nil)
	if err != nil {
		return err
	}
	tok, secret, err := toks.Create(ctx, *name, *role)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "created %s token %q (id %s)\n", tok.Role, tok.Name, tok.ID)
	fmt.Fprintln(stdout, secret)
	return nil
}

// adminReset forgets the admin password and sessions, for an admin who
// lost the password. Like token create it needs the server stopped; the
// next start writes a new setup code to the data directory.
func adminReset(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("admin reset", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./data", "directory of the store")
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := store.Open(ctx, store.Options{Dir: storeDir(*data)}, migrations)
	if err != nil {
		return err
	}
	defer db.Close()
	adm, err := admin.New(ctx, db, nil)
	if err != nil {
		return err
	}
	if err := adm.Reset(ctx); err != nil {
		return err
	}
	fmt.Fprintln(stderr, "admin password reset: start edgeward and use the setup code it writes to", filepath.Join(*data, "setup.code"))
	return nil
}
