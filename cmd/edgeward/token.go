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

// offline parses the flags of a command that works on the store while the
// server is stopped (the store refuses a second opener): --data, and what
// flags adds. Then it runs fn with the store open.
func offline(ctx context.Context, name string, args []string, stderr io.Writer,
	flags func(*flag.FlagSet), fn func(db *store.DB, data string) error) error {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", "./data", "directory of the store")
	if flags != nil {
		flags(fs)
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := store.Open(ctx, store.Options{Dir: storeDir(*data)}, migrations)
	if err != nil {
		return err
	}
	defer db.Close()
	return fn(db, *data)
}

// tokenCreate prints a new token.
func tokenCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var name, role string
	return offline(ctx, "token create", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&name, "name", "", "name of the token")
		fs.StringVar(&role, "role", auth.RoleAdmin, "admin, viewer or metrics (may only scrape /metrics)")
	}, func(db *store.DB, _ string) error {
		toks, err := auth.New(ctx, db, nil)
		if err != nil {
			return err
		}
		tok, secret, err := toks.Create(ctx, name, role)
		if err != nil {
			return err
		}
		fmt.Fprintf(stderr, "created %s token %q (id %s)\n", tok.Role, tok.Name, tok.ID)
		fmt.Fprintln(stdout, secret)
		return nil
	})
}

// adminReset forgets the admin password and sessions, for an admin who
// lost the password; the next start writes a new setup code to the data
// directory.
func adminReset(ctx context.Context, args []string, stderr io.Writer) error {
	return offline(ctx, "admin reset", args, stderr, nil, func(db *store.DB, data string) error {
		adm, err := admin.New(ctx, db, nil)
		if err != nil {
			return err
		}
		if err := adm.Reset(ctx); err != nil {
			return err
		}
		fmt.Fprintln(stderr, "admin password reset: start edgeward and use the setup code it writes to", filepath.Join(data, "setup.code"))
		return nil
	})
}
