package nft

import (
	"cmp"
	"context"
	"fmt"
	"net/netip"
	"slices"

	"github.com/edgeward/edgeward/core/acl"
	"github.com/google/nftables"
)

// Check reports drift: the table, chain pre or meter, one of their rules or one of
// the sets missing (with an overlay policy installed, also one of its
// chains, their rules or sets), or the ruleset generation moved although
// edgeward did not write. The generation is global to the namespace, so a
// change to another tool's table is reported too; the caller's reinstall
// is then harmless. Drift found by the generation is reported once: the new
// generation is remembered, and the caller's Install resets the state.
// Before the first Install, Check reports drift.
func (f *Firewall) Check(ctx context.Context) (acl.Health, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.ready(); err != nil {
		return acl.Health{}, err
	}
	if f.lay == nil {
		return acl.Health{Drifted: true, Why: "table inet " + TableName + " not installed by this process"}, nil
	}
	cur, err := f.generation(ctx)
	if err != nil {
		return acl.Health{}, fmt.Errorf("check: read generation: %w", mapErr(err))
	}
	why, err := f.structure(ctx)
	if err != nil {
		return acl.Health{}, fmt.Errorf("check: %w", mapErr(err))
	}
	if why == "" && (cur != f.genID || f.drift != "") {
		why = cmp.Or(f.drift, whyOutside)
	}
	f.genID, f.drift = cur, ""
	return acl.Health{Drifted: why != "", Why: why}, nil
}

// structure returns what is missing from the table, or "". It uses dumps
// only, so that a failed call is an error and never taken for a missing
// object. Callers hold mu.
func (f *Firewall) structure(ctx context.Context) (string, error) {
	l := f.lay
	deadline(ctx, f.sock)
	tables, err := f.conn.ListTablesOfFamily(nftables.TableFamilyINet)
	if err != nil {
		f.reconnect()
		return "", fmt.Errorf("list tables: %w", err)
	}
	if !slices.ContainsFunc(tables, func(t *nftables.Table) bool { return t.Name == TableName }) {
		return "table inet " + TableName + " is missing", nil
	}
	chains, err := f.conn.ListChainsOfTableFamily(nftables.TableFamilyINet)
	if err != nil {
		f.reconnect()
		return "", fmt.Errorf("list chains: %w", err)
	}
	for _, want := range []*nftables.Chain{l.chain, l.meter} {
		if want == nil {
			continue
		}
		why, err := f.chainStructure(ctx, chains, l.table, want, l.count(want))
		if why != "" || err != nil {
			return why, err
		}
	}
	sets, err := f.conn.GetSets(l.table)
	if err != nil {
		f.reconnect()
		return "", fmt.Errorf("list sets: %w", err)
	}
	for _, want := range l.order {
		if !slices.ContainsFunc(sets, func(s *nftables.Set) bool { return s.Name == want.Name }) {
			return "set " + want.Name + " is missing", nil
		}
	}
	return f.policyStructure(ctx, chains, sets)
}

// chainStructure returns what of chain want (in table, holding rules
// rules) is missing or changed, or "". The ACL's chains and the overlay
// policy's are checked the same way. Callers hold mu.
func (f *Firewall) chainStructure(ctx context.Context, chains []*nftables.Chain, table *nftables.Table, want *nftables.Chain, rules int) (string, error) {
	i := slices.IndexFunc(chains, func(c *nftables.Chain) bool {
		return c.Table != nil && c.Table.Name == TableName && c.Name == want.Name
	})
	if i < 0 {
		return "chain " + want.Name + " is missing", nil
	}
	if !sameHook(chains[i], want) {
		return "chain " + want.Name + " has another type, hook, priority or policy", nil
	}
	deadline(ctx, f.sock)
	got, err := f.conn.GetRules(table, want)
	if err != nil {
		f.reconnect()
		return "", fmt.Errorf("list rules of chain %s: %w", want.Name, err)
	}
	if len(got) != rules {
		return fmt.Sprintf("chain %s has %d rules, want %d", want.Name, len(got), rules), nil
	}
	return "", nil
}

func sameHook(got, want *nftables.Chain) bool {
	return got.Type == want.Type && got.Hooknum != nil && *got.Hooknum == *want.Hooknum &&
		got.Priority != nil && *got.Priority == *want.Priority &&
		got.Policy != nil && *got.Policy == *want.Policy
}

// KernelGreylist reads grey4 and grey6: what the ACL added and what the
// kernel added for flooders, each with its time left. It works before
// Install too, on a table a previous run left.
func (f *Firewall) KernelGreylist(ctx context.Context) ([]acl.Grey, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.ready(); err != nil {
		return nil, err
	}
	t := &nftables.Table{Name: TableName, Family: nftables.TableFamilyINet}
	var out []acl.Grey
	for _, name := range []string{setGrey4, setGrey6} {
		deadline(ctx, f.sock)
		els, err := f.conn.GetSetElements(&nftables.Set{Table: t, Name: name})
		if err != nil {
			f.reconnect()
			return nil, fmt.Errorf("read set %s: %w", name, mapErr(err))
		}
		for _, e := range els {
			if a, ok := netip.AddrFromSlice(e.Key); ok {
				out = append(out, acl.Grey{Addr: a, Expires: e.Expires})
			}
		}
	}
	return out, nil
}
