package clientcache

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rediscache/rediscache/adapters/memory"
	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/domain"
)

// quoted is the JSON encoding of a string of n bytes ('x').
func quoted(n int) string { return `"` + strings.Repeat("x", n) + `"` }

// Site.SetValue and GetOrGenerate store the Expires option's TTL with the
// key, and the local copy expires with the key, even when no invalidation
// arrives (here muted: Redis sends it only when it gets round to deleting
// the key, which with many volatile keys takes minutes).
//
// Catches f71d369: its SetValue and GetOrGenerate accepted app.Expires and
// dropped it (SET without expiry), and a local copy lived LocalTTL whatever
// the key's TTL (issue items 3 and 8). Checked on f71d369: the key had no
// TTL after SetValue(..., app.Expires(10*time.Second)).
func TestWritesHonourExpires(t *testing.T) {
	ctx := t.Context()
	clk := newFakeClock()
	f, _ := newFakeStore(t, memory.WithClock(clk.Now))
	c, s := newCache(t, f, Config{}, WithClock(clk.Now))

	check(t, s.SetValue(ctx, "set", "v", app.Expires(10*time.Second)))
	v, err := GetOrGenerate(ctx, s, "gen", func(context.Context) (string, error) { return "g", nil }, app.Expires(10*time.Second))
	if err != nil || v != "g" {
		t.Fatalf("GetOrGenerate = %q, %v", v, err)
	}
	raw, err := s.GetOrGenerateRaw(ctx, "raw", func(context.Context) ([]byte, error) { return []byte(`"r"`), nil }, app.Expires(10*time.Second))
	if err != nil || string(raw) != `"r"` {
		t.Fatalf("GetOrGenerateRaw = %q, %v", raw, err)
	}
	for _, k := range []string{"set", "gen", "raw"} {
		ttl, err := f.TTL(ctx, "s|"+k)
		check(t, err)
		if ttl <= 0 || ttl > 10*time.Second {
			t.Fatalf("TTL of %q in the store: %v, want (0, 10s]", k, ttl)
		}
	}
	fetches := f.fetches.Load()
	mustGet(t, s, "set", "v")
	mustGet(t, s, "gen", "g")
	mustGet(t, s, "raw", "r")
	if f.fetches.Load() != fetches {
		t.Fatal("the cache's own writes were not kept locally")
	}

	f.muted.Store(true) // the expiries' invalidations never arrive
	clk.Advance(10*time.Second - time.Millisecond)
	mustGet(t, s, "set", "v")
	clk.Advance(2 * time.Millisecond)
	for _, k := range []string{"set", "gen", "raw"} {
		mustMiss(t, s, k)
	}
	if st := c.Statistics(); st.ExpiredKeyTTL != 3 {
		t.Fatalf("ExpiredKeyTTL = %d, want 3", st.ExpiredKeyTTL)
	}
}

// With MaxBytes set, a value larger than MaxEntryBytes (default MaxBytes/8,
// and never more than MaxBytes) is served but not kept, and evicts nothing,
// whatever path read it; it is counted as Rejected.
//
// Catches f71d369: there was no per-entry cap, and one value larger than
// MaxBytes evicted every entry, then itself (issue item 8). Checked on
// f71d369: reading one 9,000-byte value with MaxBytes 8,000 left Used at 0.
func TestOversizedValuesAreServedNotKept(t *testing.T) {
	for _, cfg := range []Config{
		{MaxEntries: 100, MaxBytes: 8000},                         // cap 1000 (MaxBytes/8)
		{MaxEntries: 100, MaxBytes: 8000, MaxEntryBytes: 1000},    // the same, explicit
		{MaxEntries: 100, MaxBytes: 8000, MaxEntryBytes: 1 << 20}, // a cap above MaxBytes is MaxBytes
	} {
		t.Run(fmt.Sprintf("MaxEntryBytes=%d", cfg.MaxEntryBytes), func(t *testing.T) {
			ctx := t.Context()
			f, peer := newFakeStore(t)
			c, s := newCache(t, f, cfg)
			for i := range 60 {
				k := fmt.Sprint("small", i)
				check(t, peer.Set(ctx, "s|"+k, []byte(quoted(100)), 0))
				_, err := GetValue[string](ctx, s, k)
				check(t, err)
			}
			before := c.Statistics()
			if before.Used != 60 || before.Evictions != 0 {
				t.Fatalf("setup: %+v", before)
			}
			over := 1500 // above the cap, below MaxBytes
			if cfg.MaxEntryBytes > cfg.MaxBytes {
				over = 9000 // above MaxBytes
			}
			big := quoted(over)
			check(t, peer.Set(ctx, "s|big", []byte(big), 0))
			reads := []func() (string, error){
				func() (string, error) { return GetValue[string](ctx, s, "big") },
				func() (string, error) { b, err := s.GetRaw(ctx, "big"); return string(b), err },
				func() (string, error) { b, err := s.Cache().GetRaw(ctx, "big"); return string(b), err },
				func() (string, error) {
					return GetOrGenerate(ctx, s, "big", func(context.Context) (string, error) { return "", errors.New("not missing") })
				},
			}
			for i, read := range reads {
				fetches := f.fetches.Load()
				got, err := read()
				if err != nil || (got != big && got != big[1:len(big)-1]) {
					t.Fatalf("read %d of the big value: %d bytes, %v", i, len(got), err)
				}
				if f.fetches.Load() != fetches+1 {
					t.Fatalf("read %d: the big value was served locally: it was kept", i)
				}
			}
			check(t, s.SetValue(ctx, "big2", strings.Repeat("y", over)))
			v, err := GetOrGenerate(ctx, s, "big3", func(context.Context) (string, error) { return strings.Repeat("z", over), nil })
			if err != nil || len(v) != over {
				t.Fatalf("GetOrGenerate of a big value: %d bytes, %v", len(v), err)
			}
			st := c.Statistics()
			if st.Used != 60 || st.Bytes != before.Bytes || st.Evictions != 0 || st.Rejected != uint64(len(reads))+2 {
				t.Fatalf("after big values: Used %d Bytes %d (was %d) Evictions %d Rejected %d",
					st.Used, st.Bytes, before.Bytes, st.Evictions, st.Rejected)
			}
			checkAccounting(t, c)
		})
	}
}

// Each read counts exactly one hit or one miss, whatever path serves it:
// a local value, a fetch, a remembered miss, a GetOrGenerate that sets a
// remembered miss aside, a wait on another reader's fetch, a pass-through
// while unhealthy or stopped. Remembered misses found are NegativeHits.
//
// Catches f71d369: a GetOrGenerate of a remembered miss counted 2 hits and
// 1 miss, readers waiting on another's fetch and pass-through reads counted
// nothing (issue item 8). Checked on f71d369: the GetOrGenerate case read
// {hits:2 misses:1}.
func TestEachReadCountsOnce(t *testing.T) {
	ctx := t.Context()
	f, peer := newFakeStore(t)
	c, s := newCache(t, f, Config{})
	check(t, peer.Set(ctx, "s|k", []byte(`"v"`), 0))
	step := func(name string, want counts, read func()) {
		t.Helper()
		before := countsOf(c)
		read()
		after := countsOf(c)
		got := counts{after.hits - before.hits, after.misses - before.misses, after.negHits - before.negHits}
		if got != want {
			t.Fatalf("%s counted %+v, want %+v", name, got, want)
		}
	}
	get := func() { mustGet(t, s, "k", "v") }
	miss := func() { mustMiss(t, s, "none") }
	gen := func(key string) func() {
		return func() {
			v, err := GetOrGenerate(ctx, s, key, func(context.Context) (string, error) { return "g", nil })
			if err != nil || v != "g" {
				t.Fatalf("GetOrGenerate = %q, %v", v, err)
			}
		}
	}
	step("GetValue, fetched", counts{0, 1, 0}, get)
	step("GetValue, local", counts{1, 0, 0}, get)
	step("GetRaw, local", counts{1, 0, 0}, func() { _, err := s.GetRaw(ctx, "k"); check(t, err) })
	step("Cache().GetValue, local", counts{1, 0, 0}, func() { _, err := app.GetValue[string](ctx, s.Cache(), "k"); check(t, err) })
	step("GetValue of a missing key", counts{0, 1, 0}, miss)
	step("GetValue, remembered miss", counts{1, 0, 1}, miss)
	step("GetRaw, remembered miss", counts{1, 0, 1}, func() {
		if _, err := s.GetRaw(ctx, "none"); !errors.Is(err, domain.ErrNotFound) {
			t.Fatal(err)
		}
	})
	step("GetOrGenerate of a remembered miss", counts{0, 1, 0}, gen("none"))
	step("GetValue of the generated value", counts{1, 0, 0}, func() { mustGet(t, s, "none", "g") })
	mustMiss(t, s, "none2")
	step("GetOrGenerateRaw of a remembered miss", counts{0, 1, 0}, func() {
		_, err := s.GetOrGenerateRaw(ctx, "none2", func(context.Context) ([]byte, error) { return []byte(`"g"`), nil })
		check(t, err)
	})
	step("GetOrGenerate of a value", counts{1, 0, 0}, gen("none"))

	// Five readers of one key: one fetches, four wait on its fetch.
	check(t, peer.Set(ctx, "s|shared", []byte(`"v"`), 0))
	g := f.GateFetch("s|shared")
	step("5 concurrent readers of one key", counts{0, 5, 0}, func() {
		base := countsOf(c).misses
		var wg sync.WaitGroup
		for range 5 {
			wg.Go(func() {
				if v, err := GetValue[string](ctx, s, "shared"); err != nil || v != "v" {
					t.Errorf("concurrent reader: %q, %v", v, err)
				}
			})
		}
		<-g.arrived
		waitFor(t, "5 readers to have counted", func() bool { return countsOf(c).misses == base+5 })
		g.Release()
		wg.Wait()
	})

	f.SetDown(true)
	step("3 reads passed through while tracking is down", counts{0, 3, 0}, func() { get(); get(); get() })
	f.SetDown(false)
	check(t, c.Stop(ctx))
	step("2 reads passed through while stopped", counts{0, 2, 0}, func() { get(); get() })
	check(t, c.Start(ctx))
}
