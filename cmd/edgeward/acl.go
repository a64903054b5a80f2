package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/edgeward/edgeward/core/acl"
	"github.com/edgeward/edgeward/core/store"
)

// aclLift lifts bans and trusts in the store of a stopped server: the way
// back for an admin a ban locked out (of loopback, say). The next start
// installs the kernel table from the store, so the lift takes effect then
// (or at once with "firewall remove"). --all lifts every address ban and
// empties the greylist; trusts stay.
func aclLift(ctx context.Context, args []string, stderr io.Writer) error {
	var all bool
	var flags *flag.FlagSet
	return offline(ctx, "acl lift", args, stderr, func(fs *flag.FlagSet) {
		fs.BoolVar(&all, "all", false, "lift every ban and empty the greylist (trusts stay)")
		flags = fs
	}, func(db *store.DB, _ string) error {
		entries := flags.Args() // parsed by now
		if all == (len(entries) > 0) {
			return fmt.Errorf("acl lift: name the entries to lift, or --all (not both)")
		}
		svc, err := acl.New(ctx, db, nil, nil, acl.Config{Unavailable: "offline"})
		if err != nil {
			return err
		}
		if all {
			bans, _ := svc.Bans(0)
			for _, b := range bans {
				entries = append(entries, b.Target)
			}
		}
		lifted := 0
		for len(entries) > 0 {
			n := min(len(entries), acl.MaxLift)
			c, err := svc.Lift(ctx, entries[:n], "cli")
			if err != nil {
				return fmt.Errorf("acl lift: %w", err)
			}
			lifted += c
			entries = entries[n:]
		}
		if all {
			if err := svc.ClearGreylist(ctx); err != nil {
				return err
			}
		}
		fmt.Fprintf(stderr, "entries lifted: %d%s; the next start applies it to the kernel\n", lifted,
			map[bool]string{true: " and emptied the greylist"}[all])
		return nil
	})
}
