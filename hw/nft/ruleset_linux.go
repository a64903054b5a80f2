package nft

import (
	"context"
	"errors"
	"os/exec"

	"github.com/edgeward/edgeward/hw/netns"
)

// TableName is the one table edgeward owns.
const TableName = "edgeward"

// Ruleset returns the text of table inet edgeward as nft prints it, for
// debug bundles. It only reads, and only edgeward's own table. netns is an
// open descriptor of the network namespace whose table it lists (0: the
// process's own): nft runs inside it.
func Ruleset(ctx context.Context, netnsFD int) ([]byte, error) {
	path, err := exec.LookPath("nft")
	if err != nil {
		return []byte("nft is not installed; the ruleset could not be listed\n"), nil
	}
	var out []byte
	err = netns.Do(netnsFD, func() error {
		// The child is forked from this thread, so it starts in netnsFD.
		out, err = exec.CommandContext(ctx, path, "list", "table", "inet", TableName).CombinedOutput()
		return err
	})
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		// No table yet, or no CAP_NET_ADMIN: what nft said is the answer.
		return append([]byte("nft list table inet "+TableName+" failed:\n"), out...), nil
	}
	return out, err
}
