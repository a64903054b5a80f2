package netstat

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestSampler(t *testing.T) {
	now := time.Unix(1000, 0)
	rx, tx := uint64(1000), uint64(500)
	var fail error
	s := New(func(context.Context) (uint64, uint64, error) { return rx, tx, fail }, func() time.Time { return now })
	steps := []struct {
		name   string
		dt     time.Duration
		rx, tx uint64
		fail   error
		want   Stat
	}{
		{"first sample has no rate", 0, 1000, 500, nil, Stat{TotalRecv: 1000, TotalSent: 500}},
		{"two seconds later", 2 * time.Second, 5000, 2500, nil, Stat{TotalRecv: 5000, TotalSent: 2500, Inflow: 2000, Outflow: 1000}},
		{"read error keeps the last", time.Second, 9999, 9999, errors.New("gone"), Stat{TotalRecv: 5000, TotalSent: 2500, Inflow: 2000, Outflow: 1000}},
		{"counter went back", time.Second, 100, 3000, nil, Stat{TotalRecv: 100, TotalSent: 3000, Inflow: 0, Outflow: 250}},
	}
	for _, st := range steps {
		now = now.Add(st.dt)
		rx, tx, fail = st.rx, st.tx, st.fail
		err := s.Sample(context.Background())
		if (err != nil) != (st.fail != nil) {
			t.Fatalf("%s: err = %v", st.name, err)
		}
		if diff := cmp.Diff(st.want, s.Stat()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", st.name, diff)
		}
	}
}
