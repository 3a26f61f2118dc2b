package clientcache

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/domain"
)

// A random interleaving of reads (every read path), the cache's own writes,
// remote writes (invalidations), drops of leases, ClearCache and evictions
// (tight entry and byte bounds, values over the per-entry cap), by several
// goroutines over two sites, with readers whose ctx is already done (their
// fetches go on, detached). Run under -race. At the end of each round, with
// nothing running:
//
//   - Used, Bytes and NegativeEntries match a recount of the local maps, no
//     placeholder is left, the policy holds exactly the entries, the bounds
//     hold (checkAccounting);
//   - every value held equals the store's (a remembered miss: the key is
//     missing), under a valid lease: no race published a stale value;
//   - Hits + Misses equals the number of reads made.
//
// Throughout, each goroutine reads its own writes of its private keys.
//
// Catches f71d369 on the count of reads: waiters and pass-through reads
// counted nothing, a GetOrGenerate of a remembered miss counted 2 hits and
// a miss (checked there with TestEachReadCountsOnce's cases; this spec
// itself needs leases, which f71d369 lacks). It found the rewrite's Store
// Get with a ctx already done counting nothing.
func TestAccountingUnderConcurrentOperations(t *testing.T) {
	const (
		workers = 6
		rounds  = 4
		opsEach = 400
		keys    = 24
	)
	ctx := t.Context()
	f, peer := newFakeStore(t)
	c, s1 := newCache(t, f, Config{MaxEntries: 20, MaxBytes: 2400})
	s2, err := c.Site("t")
	check(t, err)
	sites := []*Site{s1, s2}
	done, cancel := context.WithCancel(ctx)
	cancel()
	var reads atomic.Uint64

	worker := func(w int, r *rand.Rand) error {
		mine := fmt.Sprint("own", w)
		var ownValue string
		for range opsEach {
			s := sites[r.IntN(2)]
			k := fmt.Sprint("k", r.IntN(keys))
			val := strings.Repeat("v", r.IntN(400)) // MaxEntryBytes is 300
			var err error
			switch op := r.IntN(20); op {
			case 0, 1, 2:
				reads.Add(1)
				_, err = GetValue[string](ctx, s, k)
			case 3:
				reads.Add(1)
				_, err = s.GetRaw(ctx, k)
			case 4:
				reads.Add(1)
				_, err = app.GetValue[string](ctx, s.Cache(), k)
			case 5, 6:
				reads.Add(1)
				_, err = GetOrGenerate(ctx, s, k, func(context.Context) (string, error) { return val, nil })
			case 7:
				reads.Add(1)
				if r.IntN(2) == 0 {
					_, err = GetValue[string](done, s, k)
				} else {
					_, err = app.GetValue[string](done, s.Cache(), k)
				}
				if errors.Is(err, context.Canceled) {
					err = nil
				}
			case 8, 9:
				err = s.SetValue(ctx, k, val)
			case 10:
				err = s.Cache().SetValue(ctx, k, val)
			case 11:
				err = s.DeleteValue(ctx, k)
			case 12, 13:
				err = peer.Set(ctx, s.Name()+"|"+k, []byte(`"`+val+`"`), 0)
			case 14:
				_, err = peer.Del(ctx, s.Name()+"|"+k)
			case 15:
				f.Revoke(true)
			case 16:
				if r.IntN(10) == 0 {
					c.ClearCache()
				}
			case 17:
				_, err = s.DeleteKeys(ctx, "k1")
			default:
				ownValue = fmt.Sprint(w, "-", r.Uint32())
				if err = s1.SetValue(ctx, mine, ownValue); err != nil {
					break
				}
				reads.Add(1)
				var got string
				got, err = GetValue[string](ctx, s1, mine)
				if err == nil && got != ownValue {
					err = fmt.Errorf("read %q after writing %q: own write not seen", got, ownValue)
				}
			}
			if err != nil && !errors.Is(err, domain.ErrNotFound) {
				return fmt.Errorf("worker %d: %w", w, err)
			}
		}
		return nil
	}

	for round := range rounds {
		var wg sync.WaitGroup
		errs := make(chan error, workers)
		for w := range workers {
			r := rand.New(rand.NewPCG(uint64(round), uint64(w)))
			wg.Go(func() { errs <- worker(w, r) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			check(t, err)
		}
		waitFor(t, "the detached fetches to end", func() bool { return placeholders(c) == 0 })
		checkAccounting(t, c)
		checkAgainstStore(t, c)
		if st := c.Statistics(); st.Hits+st.Misses != reads.Load() {
			t.Fatalf("round %d: %d reads counted %d hits + %d misses", round, reads.Load(), st.Hits, st.Misses)
		}
	}
	st := c.Statistics()
	if st.Evictions == 0 || st.Rejected == 0 || st.Dropped == 0 || st.Invalidations == 0 || st.Hits == 0 || st.NegativeHits == 0 {
		t.Fatalf("the workload missed a kind of operation: %+v", st)
	}
}

// placeholders counts the fetches in flight.
func placeholders(c *ClientCache) int {
	n := 0
	c.local.each(func(e *entry) {
		if e.token != 0 {
			n++
		}
	})
	return n
}

// checkAgainstStore fails the test unless every entry held is what the
// store holds now, under a valid lease. Call it while nothing runs.
func checkAgainstStore(t testing.TB, c *ClientCache) {
	t.Helper()
	var held []*entry
	c.local.each(func(e *entry) {
		held = append(held, e)
	})
	for _, e := range held {
		raw, err := c.store.Get(context.Background(), e.key)
		switch {
		case !e.lease.Valid():
			t.Fatalf("%q held under a revoked lease", e.key)
		case e.missing && !errors.Is(err, domain.ErrNotFound):
			t.Fatalf("%q held as missing; the store has %q, %v", e.key, raw, err)
		case !e.missing && (err != nil || string(raw) != string(e.raw)):
			t.Fatalf("%q held as %q; the store has %q, %v", e.key, e.raw, raw, err)
		}
	}
}
