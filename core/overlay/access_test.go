package overlay

import (
	"context"
	"errors"
	"testing"

	"github.com/edgeward/edgeward/core"
	"github.com/google/go-cmp/cmp"
)

func TestAccessible(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	ann, bob, cat, dan := f.peer(t, "ann"), f.peer(t, "bob"), f.peer(t, "cat"), f.peer(t, "dan")
	devs := f.group(t, "devs", ann.ID, bob.ID)
	srv := f.group(t, "servers", cat.ID)
	ops := f.group(t, "ops", dan.ID)
	// devs -> servers one way; ops <-> servers both ways; a disabled policy
	// and a disabled rule that would open everything.
	save := func(p Policy) {
		t.Helper()
		if _, err := f.svc.SavePolicy(ctx, "", p); err != nil {
			t.Fatal(err)
		}
	}
	save(Policy{Name: "devs to servers", Enabled: true, Rules: []Rule{{Enabled: true, Action: "accept", Protocol: ProtoTCP, Ports: []uint16{22}, Sources: []string{devs}, Destinations: []string{srv}}}})
	save(Policy{Name: "ops and servers", Enabled: true, Rules: []Rule{{Enabled: true, Action: "accept", Bidirectional: true, Protocol: ProtoAll, Sources: []string{ops}, Destinations: []string{srv}}}})
	all := f.svc.Groups("All")[0].ID
	save(Policy{Name: "off", Enabled: false, Rules: []Rule{{Enabled: true, Action: "accept", Protocol: ProtoAll, Sources: []string{all}, Destinations: []string{all}}}})
	save(Policy{Name: "rule off", Enabled: true, Rules: []Rule{{Enabled: false, Action: "accept", Protocol: ProtoAll, Sources: []string{all}, Destinations: []string{all}}}})

	tests := []struct {
		peer PeerInfo
		want []string
	}{
		{ann, []string{"cat"}}, // source of a one-way rule
		{bob, []string{"cat"}}, // same group, same answer
		{cat, []string{"dan"}}, // destination: only the bidirectional rule lets it reach back
		{dan, []string{"cat"}}, // both ways
	}
	for _, tt := range tests {
		t.Run(tt.peer.Name, func(t *testing.T) {
			got, err := f.svc.Accessible(tt.peer.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, names(got)); diff != "" {
				t.Errorf("accessible (-want +got):\n%s", diff)
			}
			p, _ := f.svc.Peer(tt.peer.ID)
			if p.AccessibleCount != len(tt.want) {
				t.Errorf("AccessibleCount = %d, want %d", p.AccessibleCount, len(tt.want))
			}
		})
	}
	// Holding cat for approval takes it out of every policy, both ways.
	yes := true
	if _, err := f.svc.UpdatePeer(ctx, cat.ID, PeerUpdate{Name: "cat", ApprovalRequired: &yes}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{ann.ID, cat.ID, dan.ID} {
		if got, _ := f.svc.Accessible(id); len(got) != 0 {
			t.Errorf("with cat held for approval, %s reaches %v", id, names(got))
		}
	}
	if _, err := f.svc.Accessible("nope"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("unknown peer: err = %v, want ErrNotFound", err)
	}
}

func TestAllToAllExcludesSelfAndSorts(t *testing.T) {
	f := newFixture(t)
	for _, n := range []string{"zed", "amy", "kim"} {
		f.peer(t, n)
	}
	all := f.svc.Groups("All")[0].ID
	if _, err := f.svc.SavePolicy(context.Background(), "", Policy{Name: "all", Enabled: true,
		Rules: []Rule{{Enabled: true, Action: "accept", Protocol: ProtoAll, Sources: []string{all}, Destinations: []string{all}}}}); err != nil {
		t.Fatal(err)
	}
	kim := f.svc.Peers(Filter{Name: "kim"})[0]
	got, _ := f.svc.Accessible(kim.ID)
	if diff := cmp.Diff([]string{"amy", "zed"}, names(got)); diff != "" {
		t.Errorf("accessible (-want +got):\n%s", diff)
	}
	for _, p := range f.svc.Peers(Filter{}) {
		if p.AccessibleCount != 2 {
			t.Errorf("%s AccessibleCount = %d, want 2", p.Name, p.AccessibleCount)
		}
	}
}

func TestPolicyRefused(t *testing.T) {
	f := newFixture(t)
	g := f.group(t, "g")
	tests := []struct {
		name  string
		p     Policy
		field string
	}{
		{"no rules", Policy{Name: "p"}, "rules"},
		{"no name", Policy{Rules: []Rule{{Action: "accept", Protocol: ProtoAll, Sources: []string{g}, Destinations: []string{g}}}}, "name"},
		{"drop", Policy{Name: "p", Rules: []Rule{{Action: "drop", Protocol: ProtoAll, Sources: []string{g}, Destinations: []string{g}}}}, "rules[0].action"},
		{"bad protocol", Policy{Name: "p", Rules: []Rule{{Action: "accept", Protocol: "gre", Sources: []string{g}, Destinations: []string{g}}}}, "rules[0].protocol"},
		{"ports with all", Policy{Name: "p", Rules: []Rule{{Action: "accept", Protocol: ProtoAll, Ports: []uint16{80}, Sources: []string{g}, Destinations: []string{g}}}}, "rules[0].ports"},
		{"unknown group", Policy{Name: "p", Rules: []Rule{{Action: "accept", Protocol: ProtoAll, Sources: []string{"x"}, Destinations: []string{g}}}}, "rules[0].sources[0]"},
		{"no destination", Policy{Name: "p", Rules: []Rule{{Action: "accept", Protocol: ProtoAll, Sources: []string{g}}}}, "rules[0].destinations"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.SavePolicy(context.Background(), "", tt.p)
			var ve *core.ValidationError
			if !errors.As(err, &ve) || ve.Fields[0].Field != tt.field {
				t.Fatalf("err = %v, want a ValidationError on %s", err, tt.field)
			}
		})
	}
	if n := len(f.svc.Policies()); n != 0 {
		t.Fatalf("%d policies stored after refusals", n)
	}
	// A group in use cannot be deleted; All never can.
	if _, err := f.svc.SavePolicy(context.Background(), "", Policy{Name: "uses g", Enabled: true,
		Rules: []Rule{{Enabled: true, Action: "accept", Protocol: ProtoAll, Sources: []string{g}, Destinations: []string{g}}}}); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.DeleteGroup(context.Background(), g); !errors.Is(err, core.ErrConflict) {
		t.Errorf("delete group in use: err = %v, want ErrConflict", err)
	}
	if err := f.svc.DeleteGroup(context.Background(), f.svc.Groups("All")[0].ID); !errors.Is(err, core.ErrInvalid) {
		t.Errorf("delete All: err = %v, want ErrInvalid", err)
	}
}
