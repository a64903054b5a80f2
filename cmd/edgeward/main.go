// Command edgeward is the gateway appliance: one binary that keeps its state
// in an embedded store, guards the router and serves the API.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		err = nil // -h printed the flags as asked
	}
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "edgeward:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  edgeward serve [--listen ADDR] [--data DIR] [--overlay CIDR] [--dns-domain D] ...
  edgeward token create --data DIR --name N [--role admin|viewer|metrics]
  edgeward admin reset --data DIR      (forget the admin password; the next start writes a new setup code)
  edgeward run-slot --update-dir DIR [--trial-starts 3] [--trial-window 2m] -- serve [flags]
                                       (the launcher a supervisor runs: the active or trial update slot)
  edgeward acl lift --data DIR (ENTRY... | --all)
                                       (lift bans and trusts while the server is stopped; --all: every ban and the greylist)
  edgeward firewall remove [--netns NAME]  (delete edgeward's nftables table; stop the server first)
  edgeward version
Run "edgeward serve -h" for every flag; each flag can also be set as EDGEWARD_<FLAG>.`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return fmt.Errorf("missing command\n%s", usage)
	}
	switch args[0] {
	case "serve":
		cfg, err := parseServe(args[1:], stderr, os.LookupEnv)
		if err != nil {
			return err
		}
		return serve(ctx, cfg, stderr)
	case "token":
		if len(args) < 2 || args[1] != "create" {
			return fmt.Errorf("unknown token command\n%s", usage)
		}
		return tokenCreate(ctx, args[2:], stdout, stderr)
	case "admin":
		if len(args) < 2 || args[1] != "reset" {
			return fmt.Errorf("unknown admin command\n%s", usage)
		}
		return adminReset(ctx, args[2:], stderr)
	case "run-slot":
		return runSlot(ctx, args[1:], stderr)
	case "acl":
		if len(args) < 2 || args[1] != "lift" {
			return fmt.Errorf("unknown acl command\n%s", usage)
		}
		return aclLift(ctx, args[2:], stderr)
	case "firewall":
		if len(args) < 2 || args[1] != "remove" {
			return fmt.Errorf("unknown firewall command\n%s", usage)
		}
		return firewallRemove(args[2:], stderr)
	case "version":
		fmt.Fprintln(stdout, "edgeward", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprintln(stdout, usage)
		return nil
	}
	return fmt.Errorf("unknown command %q\n%s", args[0], usage)
}
