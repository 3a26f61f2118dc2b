package bench

import (
	"testing"

	"github.com/maypok86/otter/v2"
)

// TestOtterComputeAllocs backs what app/clientcache/internal/wtinylfu/DESIGN.md says of
// otter v2's Compute: on a key that is present it does not allocate, whether
// it cancels or writes in place, with a closure that captures state too;
// only an insertion allocates (the new entry). So allocation was not a
// reason to keep our own store.
func TestOtterComputeAllocs(t *testing.T) {
	c := otter.Must(&otter.Options[string, *string]{MaximumSize: 1024})
	v, w := "v", "w"
	c.Set("k", &v)
	token := uint64(7)
	var seen *string
	cases := []struct {
		name string
		f    func()
		zero bool
	}{
		{"cancel on a present key", func() {
			c.Compute("k", func(old *string, _ bool) (*string, otter.ComputeOp) { return old, otter.CancelOp })
		}, true},
		{"cancel on a present key, capturing closure", func() {
			c.Compute("k", func(old *string, _ bool) (*string, otter.ComputeOp) {
				if token == 8 {
					seen = old
				}
				return old, otter.CancelOp
			})
		}, true},
		{"write in place on a present key", func() {
			c.Compute("k", func(*string, bool) (*string, otter.ComputeOp) { return &w, otter.WriteOp })
		}, true},
		{"GetIfPresent", func() { c.GetIfPresent("k") }, true},
		{"insert", func() {
			c.Invalidate("new")
			c.Compute("new", func(*string, bool) (*string, otter.ComputeOp) { return &v, otter.WriteOp })
		}, false},
	}
	for _, tc := range cases {
		allocs := testing.AllocsPerRun(1000, tc.f)
		t.Logf("otter %s: %.1f allocs/op", tc.name, allocs)
		if (allocs == 0) != tc.zero {
			t.Errorf("otter %s: %.1f allocs/op, DESIGN.md says %s", tc.name, allocs, map[bool]string{true: "none", false: "some"}[tc.zero])
		}
	}
	_ = seen
}
