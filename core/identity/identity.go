// Package identity keeps the node's WireGuard key pair, created on first
// start. Its public key is the node's public identity in every dialect.
package identity

import (
	"context"
	"fmt"

	"github.com/edgeward/edgeward/core"
	"github.com/edgeward/edgeward/core/wgkey"
)

const key = "node/private_key"

// Node is the node's key pair.
type Node struct {
	Private wgkey.Key
	Public  wgkey.Key
}

// Load returns the node's key pair, creating and storing it on first start.
func Load(ctx context.Context, kv core.KV) (Node, error) {
	var n Node
	err := kv.Update(ctx, func(tx core.Tx) error {
		v, err := tx.Get([]byte(key))
		if core.IsNotFound(err) {
			priv, _, gerr := wgkey.Generate()
			if gerr != nil {
				return fmt.Errorf("create node key: %w", gerr)
			}
			v = []byte(priv.String())
			if err := tx.Put([]byte(key), v, 0); err != nil {
				return fmt.Errorf("store node key: %w", err)
			}
		} else if err != nil {
			return fmt.Errorf("read node key: %w", err)
		}
		priv, err := wgkey.Parse(string(v))
		if err != nil {
			return fmt.Errorf("stored node key: %w", err)
		}
		pub, err := wgkey.Public(priv)
		if err != nil {
			return fmt.Errorf("node public key: %w", err)
		}
		n = Node{Private: priv, Public: pub}
		return nil
	})
	return n, err
}
