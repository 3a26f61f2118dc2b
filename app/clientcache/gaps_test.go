package clientcache

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rediscache/rediscache/domain"
)

// Local entries expire after LocalTTL even when no invalidation comes (the
// backstop for a lost one, simulated by muting them): served locally up to
// LocalTTL, fetched again after it. Measured with WithClock.
//
// Closes a test gap (issue 10, "Also close these test gaps"): nothing used
// LocalTTL or WithClock, so a cache whose entries never expire passed the
// suite. Checked by mutation: with newEntry's expiry set to math.MaxInt64,
// the read after LocalTTL still served "v1" from local memory. (f71d369
// honoured LocalTTL: this spec passes there.)
func TestLocalEntriesExpireAfterLocalTTL(t *testing.T) {
	ctx := t.Context()
	clk := newFakeClock()
	f, peer := newFakeStore(t)
	c, s := newCache(t, f, Config{LocalTTL: time.Minute}, WithClock(clk.Now))
	check(t, peer.Set(ctx, "s|k", []byte(`"v1"`), 0))
	mustGet(t, s, "k", "v1")
	f.muted.Store(true) // the next change is never reported
	check(t, peer.Set(ctx, "s|k", []byte(`"v2"`), 0))
	clk.Advance(time.Minute - time.Millisecond)
	mustGet(t, s, "k", "v1")
	if n := f.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches within LocalTTL, want 1", n)
	}
	clk.Advance(time.Millisecond)
	mustGet(t, s, "k", "v2")
	if st := c.Statistics(); f.fetches.Load() != 2 || st.ExpiredLocalTTL != 1 {
		t.Fatalf("after LocalTTL: %d fetches, ExpiredLocalTTL %d; want 2, 1", f.fetches.Load(), st.ExpiredLocalTTL)
	}
}

// The same on the real clock, which hits read through the coarse clock
// (clock.go): an entry is not expired before LocalTTL, and is once LocalTTL
// and the clock's slack (two ticks of 1 ms) have passed.
//
// The same gap; the mutation above makes it time out.
func TestLocalTTLOnTheCoarseClock(t *testing.T) {
	const ttl = 100 * time.Millisecond
	ctx := t.Context()
	f, peer := newFakeStore(t)
	_, s := newCache(t, f, Config{LocalTTL: ttl})
	check(t, peer.Set(ctx, "s|k", []byte(`"v"`), 0))
	f.muted.Store(true)
	begin := time.Now()
	mustGet(t, s, "k", "v")
	fetched := time.Now()
	waitFor(t, "the local copy to expire", func() bool {
		mustGet(t, s, "k", "v")
		return f.fetches.Load() == 2
	})
	if lived := time.Since(begin); lived < ttl {
		t.Fatalf("the local copy expired after %v, before LocalTTL (%v)", lived, ttl)
	}
	if lived := time.Since(fetched); lived > ttl+time.Second {
		t.Fatalf("the local copy lived %v", lived)
	}
}

// K4 on the ClientCache: GetValue of a missing key remembers the miss; a
// GetOrGenerate of that key must still run its generator (once), store its
// value and keep it; the next read is a hit on it.
//
// Closes a test gap: a remembered miss that blocked the generator passed the
// suite. Checked by mutation: with reserve's skipMissing forced to false,
// GetOrGenerate returned domain.ErrNotFound without running the generator.
// (f71d369 set the remembered miss aside too: this spec passes there but
// for its count of 2 hits and 1 miss, see TestEachReadCountsOnce.)
func TestGetOrGenerateRunsItsGeneratorOverARememberedMiss(t *testing.T) {
	ctx := t.Context()
	f, _ := newFakeStore(t)
	_, s := newCache(t, f, Config{})
	mustMiss(t, s, "k")
	mustMiss(t, s, "k") // remembered
	var gens atomic.Int32
	v, err := GetOrGenerate(ctx, s, "k", func(context.Context) (string, error) { gens.Add(1); return "g", nil })
	if err != nil || v != "g" || gens.Load() != 1 {
		t.Fatalf("GetOrGenerate over a remembered miss = %q, %v, %d generator runs", v, err, gens.Load())
	}
	raw, err := f.Get(ctx, "s|k")
	if err != nil || string(raw) != `"g"` {
		t.Fatalf("the store holds %q, %v", raw, err)
	}
	fetches := f.fetches.Load()
	mustGet(t, s, "k", "g")
	if f.fetches.Load() != fetches {
		t.Fatal("the generated value was not kept")
	}
}

// A remembered miss and a value whose lease is dropped are never served
// again: the next reads fetch, and see the changes made meanwhile (muted,
// as the changes a lost connection's tracking missed). Values under another
// lease (another tracked connection) are kept.
//
// Closes a test gap (f71d369 had no leases: any lost connection flushed
// everything, issue item 5). Checked by mutation: with local.drop skipping
// remembered misses, the miss was served after the drop.
func TestValuesOfADroppedLeaseAreNeverServedAgain(t *testing.T) {
	ctx := t.Context()
	f, peer := newFakeStore(t)
	c, s := newCache(t, f, Config{})
	check(t, peer.Set(ctx, "s|other", []byte(`"o"`), 0))
	check(t, peer.Set(ctx, "s|a", []byte(`"a1"`), 0))
	mustGet(t, s, "other", "o") // under the first lease
	f.NextLease()
	mustGet(t, s, "a", "a1") // under the second
	mustMiss(t, s, "m")
	f.muted.Store(true)
	check(t, peer.Set(ctx, "s|a", []byte(`"a2"`), 0))
	check(t, peer.Set(ctx, "s|m", []byte(`"m2"`), 0))
	f.muted.Store(false)
	mustGet(t, s, "a", "a1") // not told yet
	f.Revoke(true)
	fetches := f.fetches.Load()
	mustGet(t, s, "a", "a2")
	mustGet(t, s, "m", "m2")
	mustGet(t, s, "other", "o")
	if n := f.fetches.Load() - fetches; n != 2 {
		t.Fatalf("%d fetches after the drop, want 2 (the other lease's value is kept)", n)
	}
	if st := c.Statistics(); st.Dropped != 2 {
		t.Fatalf("Dropped = %d, want 2", st.Dropped)
	}
	checkAccounting(t, c)
}

// A value fetched under a lease that is revoked before the value is
// published is served to its reader but not kept, whether the drop was
// already reported (the placeholder is gone) or not yet (the lease is
// checked at publish).
//
// Closes a test gap, and is the cache's half of the CLIENT KILL race of
// the issue ("a value fetched on a connection just before CLIENT KILL may
// be published after Redis forgot that connection's tracking"). Checked by
// mutation: with accept ignoring the lease, the unreported case kept the
// value (Used 1, Raced 0). f71d369 had no leases.
func TestAValueFetchedUnderALeaseRevokedBeforePublishIsNotKept(t *testing.T) {
	for _, tell := range []bool{false, true} {
		name := map[bool]string{false: "drop not yet reported", true: "drop reported"}[tell]
		t.Run(name, func(t *testing.T) {
			ctx := t.Context()
			f, peer := newFakeStore(t)
			c, s := newCache(t, f, Config{})
			check(t, peer.Set(ctx, "s|k", []byte(`"v1"`), 0))
			var revoked *domain.Lease
			racedRead(t, f, c, s, "k", "v1", func() { revoked = f.Revoke(tell) })
			mustGet(t, s, "k", "v1")
			if n := f.fetches.Load(); n != 2 {
				t.Fatalf("%d fetches, want 2: the value read under the revoked lease was kept", n)
			}
			f.Tell(revoked)
			mustGet(t, s, "k", "v1")
			if n := f.fetches.Load(); n != 2 {
				t.Fatalf("%d fetches, want 2: the value fetched under the new lease was not kept", n)
			}
		})
	}
}

// An invalidation of a key whose fetch is in flight (the value read, not
// yet published) makes that fetch's result not kept (the placeholder's
// token), while its reader still gets what it read; the next read fetches
// the new value.
//
// Closes a test gap at the unit level (the Redis specs prove it end to
// end). Checked by mutation: with publish not comparing the placeholder,
// the stale value was kept (Used 1, Raced 0).
func TestAnInvalidationDuringAFetchMakesItsResultNotKept(t *testing.T) {
	ctx := t.Context()
	f, peer := newFakeStore(t)
	c, s := newCache(t, f, Config{})
	check(t, peer.Set(ctx, "s|k", []byte(`"v1"`), 0))
	racedRead(t, f, c, s, "k", "v1", func() {
		check(t, peer.Set(ctx, "s|k", []byte(`"v2"`), 0)) // reported before Set returns
	})
	mustGet(t, s, "k", "v2")
	mustGet(t, s, "k", "v2")
	if n := f.fetches.Load(); n != 2 {
		t.Fatalf("%d fetches, want 2", n)
	}
}

// racedRead reads key of s (of a cache holding nothing) while event
// happens: the fetch holds the value it read until event returned. The
// reader must get that value (want), and it must not be kept (Raced).
func racedRead(t *testing.T, f *fakeStore, c *ClientCache, s *Site, key, want string, event func()) {
	t.Helper()
	g := f.GateFetch(s.Name() + "|" + key)
	got := make(chan string, 1)
	go func() { v, _ := GetValue[string](t.Context(), s, key); got <- v }()
	<-g.arrived
	event()
	f.Ungate()
	g.Release()
	if v := <-got; v != want {
		t.Fatalf("the reader got %q, want what it read, %q", v, want)
	}
	if st := c.Statistics(); st.Used != 0 || st.Raced != 1 {
		t.Fatalf("after the raced fetch: Used %d Raced %d, want 0, 1", st.Used, st.Raced)
	}
}

// Concurrent misses of one key make one Fetch and one generator run, even
// when a caller's ctx ends while it waits: the fetch is detached from the
// caller that started it, completes, and is kept for the others.
//
// Catches f71d369 where the first reader's ctx bounded the read itself: a
// reader that left cancelled the GET (and on Redis could cost the tracked
// connection, issue item 5) and the waiters fetched again; checked on
// f71d369 (the owner's ctx cancelled during a held Get): 2 Gets for one
// key.
func TestConcurrentMissesMakeOneFetch(t *testing.T) {
	const readers = 8
	type reader func(ctx context.Context, s *Site) (string, error)
	getValue := func(ctx context.Context, s *Site) (string, error) { return GetValue[string](ctx, s, "k") }
	var gens atomic.Int32
	generate := func(ctx context.Context, s *Site) (string, error) {
		return GetOrGenerate(ctx, s, "k", func(context.Context) (string, error) { gens.Add(1); return "g", nil })
	}
	cases := []struct {
		name    string
		read    reader
		present bool // the key exists
		leaving int  // which reader's ctx ends while it waits (0 started the fetch)
		fetches int64
	}{
		{"GetValue, the reader that fetches leaves", getValue, true, 0, 1},
		{"GetValue, a waiter leaves", getValue, true, 3, 1},
		// One Fetch of the missing key, then the generated value's
		// Fetch that keeps it tracked.
		{"GetOrGenerate, a waiter leaves", generate, false, 3, 2},
		{"GetOrGenerate, the reader that fetches leaves", generate, false, 0, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			gens.Store(0)
			f, peer := newFakeStore(t)
			c, s := newCache(t, f, Config{})
			want := "g"
			if tc.present {
				want = "v"
				check(t, peer.Set(ctx, "s|k", []byte(`"v"`), 0))
			}
			g := f.GateFetch("s|k")
			leaveCtx, leave := context.WithCancel(ctx)
			defer leave()
			var wg sync.WaitGroup
			results := make([]string, readers)
			errs := make([]error, readers)
			left := make(chan struct{})
			start := func(i int) {
				rctx := ctx
				if i == tc.leaving {
					rctx = leaveCtx
				}
				wg.Go(func() {
					results[i], errs[i] = tc.read(rctx, s)
					if i == tc.leaving {
						close(left)
					}
				})
			}
			start(0)
			<-g.arrived // reader 0 started the one fetch
			for i := 1; i < readers; i++ {
				start(i)
			}
			waitFor(t, "every reader to wait", func() bool { return c.Statistics().Misses == readers })
			leave()
			<-left // at once: the fetch is still held
			f.Ungate()
			g.Release()
			wg.Wait()
			for i := range readers {
				switch {
				case i == tc.leaving:
					if !errors.Is(errs[i], context.Canceled) {
						t.Errorf("reader %d, whose ctx ended: %q, %v", i, results[i], errs[i])
					}
				case errs[i] != nil || results[i] != want:
					t.Errorf("reader %d: %q, %v; want %q", i, results[i], errs[i], want)
				}
			}
			if n := f.fetches.Load(); n != tc.fetches {
				t.Errorf("%d Fetches, want %d", n, tc.fetches)
			}
			if !tc.present && gens.Load() != 1 {
				t.Errorf("%d generator runs, want 1", gens.Load())
			}
			fetches := f.fetches.Load()
			mustGet(t, s, "k", want)
			if f.fetches.Load() != fetches {
				t.Error("the value was not kept")
			}
		})
	}
}
