package bench

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/maypok86/otter/v2"

	"github.com/rediscache/rediscache/internal/wtinylfu"
)

// policyEntry is a map entry with the policy's node embedded, as the
// ClientCache's local store holds them.
type policyEntry struct {
	value string
	node  wtinylfu.Node[*policyEntry]
}

// BenchmarkPolicyHit measures the eviction policy's share of a local hit,
// next to the references, in one run (GOMAXPROCS goroutines, each cycling
// over the same 1024 string keys from its own starting point, as
// BenchmarkHit does):
//
//   - baseline-rwmutex-map: RLock, map[string]*entry lookup, RUnlock;
//   - rwmutex-map+wtinylfu: the same lookup, then Policy.Access on the
//     entry's node (a hit of a map under our policy);
//   - wtinylfu-access: Policy.Access alone;
//   - otter-GetIfPresent: otter v2 with its default options, bounded at
//     2048 entries so that its policy records reads (otter skips recording
//     until its cache is half full).
//
// No miss happens, so nothing drains our read buffer: after 16 accesses per
// stripe, Access drops them (BenchmarkPolicyHitApplied measures recorded
// ones).
func BenchmarkPolicyHit(b *testing.B) {
	keys := benchKeys("policy:", hitKeys)
	p, m := policyMap(b, keys)

	b.Run("baseline-rwmutex-map", func(b *testing.B) {
		var mu sync.RWMutex
		runHits(b, func(k string) bool {
			mu.RLock()
			e := m[k]
			mu.RUnlock()
			return e != nil
		})
	})
	b.Run("rwmutex-map+wtinylfu", func(b *testing.B) {
		var mu sync.RWMutex
		runHits(b, func(k string) bool {
			mu.RLock()
			e := m[k]
			mu.RUnlock()
			if e == nil {
				return false
			}
			p.Access(&e.node)
			return true
		})
	})
	b.Run("wtinylfu-access", func(b *testing.B) {
		nodes := make([]*wtinylfu.Node[*policyEntry], len(keys))
		for i, k := range keys {
			nodes[i] = &m[k].node
		}
		var seq atomic.Uint64
		b.ReportAllocs()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			i := start(&seq)
			for pb.Next() {
				p.Access(nodes[i&(hitKeys-1)])
				i++
			}
		})
	})
	b.Run("otter-GetIfPresent", func(b *testing.B) {
		c := otter.Must(&otter.Options[string, string]{MaximumSize: 2 * hitKeys})
		for _, k := range keys {
			c.Set(k, hitValue(k))
		}
		runHits(b, func(k string) bool {
			_, ok := c.GetIfPresent(k)
			return ok
		})
	})
}

// BenchmarkPolicyHitApplied is the whole cost of a hit that the policy
// applies, on one goroutine: a map lookup, Policy.Access, and a Drain after
// every 16 hits (what a miss does), which applies them (sketch increment,
// reordering).
func BenchmarkPolicyHitApplied(b *testing.B) {
	keys := benchKeys("policy:", hitKeys)
	p, m := policyMap(b, keys)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		e := m[keys[(i*257)&(hitKeys-1)]]
		p.Access(&e.node)
		if i&15 == 15 {
			p.Drain()
		}
	}
}

// policyMap returns a policy (bounded at 2048 entries) and a map holding
// every key, each entry added to the policy.
func policyMap(b *testing.B, keys []string) (*wtinylfu.Policy[*policyEntry], map[string]*policyEntry) {
	b.Helper()
	p, err := wtinylfu.New[*policyEntry](wtinylfu.Config{MaxEntries: 2 * hitKeys})
	if err != nil {
		b.Fatal(err)
	}
	seed := maphash.MakeSeed()
	m := make(map[string]*policyEntry, len(keys))
	for _, k := range keys {
		e := &policyEntry{value: hitValue(k)}
		p.Init(&e.node, e, maphash.String(seed, k), int64(len(k)+len(e.value)))
		m[k] = e
		if _, ok := p.Add(&e.node, nil); !ok {
			b.Fatalf("%s not added", k)
		}
	}
	return p, m
}

// runHits runs get over the keys in parallel and fails on a miss.
func runHits(b *testing.B, get func(k string) bool) {
	keys := benchKeys("policy:", hitKeys)
	var seq atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := start(&seq)
		for pb.Next() {
			if !get(keys[i&(hitKeys-1)]) {
				b.Error("missing key")
				return
			}
			i++
		}
	})
}

// TestOtterComputeAllocs backs what internal/wtinylfu/DESIGN.md says of
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
