package clientcache

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/rediscache/rediscache/domain"
)

// Names of the cache's functions as they appear in goroutine stacks.
const (
	fnStop     = "clientcache.(*ClientCache).Stop"
	fnRunClock = "clientcache.(*ClientCache).runClock"
)

// Stop racing Start's Track: Start is inside Track (the transport has the
// sink but tracking is not live yet) when Stop begins, and Track returns
// only once Stop waits. When Stop returns the cache must be unhealthy, its
// sink gone from the store, its clock goroutine ended, and it must stay
// unhealthy when tracking is live afterwards.
//
// Catches f71d369's lifecycle: Stop set healthy=false and cancelled the
// loop, but a (re)subscription that succeeded as Stop began set healthy=true
// again after it, and nothing set it back: stale values were served forever
// with the coarse clock frozen (issue item 6). Checked on f71d369 with its
// ports.Invalidation (a fake whose resubscription returns once Stop
// cancelled it): Healthy() was true after Stop returned.
func TestStopRacingTrackLeavesTheCacheStopped(t *testing.T) {
	ctx := t.Context()
	f, peer := newFakeStore(t)
	check(t, peer.Set(ctx, "s|k", []byte(`"v"`), 0))
	c, err := New(f, Config{})
	check(t, err)
	g := f.GateTrack()
	started := make(chan error, 1)
	go func() { started <- c.Start(ctx) }()
	<-g.arrived
	stopped := make(chan error, 1)
	go func() { stopped <- c.Stop(ctx) }()
	waitFor(t, "Stop to wait for Start", func() bool { return goroutineBlocked(fnStop, "sync.Mutex.Lock") })
	g.Release()
	check(t, <-started)
	check(t, <-stopped)

	if c.Healthy() || c.Statistics().Healthy {
		t.Fatal("Healthy after Stop returned")
	}
	if n := f.Sinks(); n != 0 {
		t.Fatalf("%d sinks still registered after Stop", n)
	}
	waitFor(t, "the coarse clock goroutine to end", func() bool { return !goroutineRunning(fnRunClock) })
	// Tracking is (still, or again) live: a stopped cache stays stopped.
	f.SetDown(true)
	f.SetDown(false)
	if c.Healthy() {
		t.Fatal("Healthy after Stop once tracking came back")
	}
	s, err := c.Site("s")
	check(t, err)
	for range 3 {
		mustGet(t, s, "k", "v")
	}
	if n := f.fetches.Load(); n != 0 {
		t.Fatalf("a stopped cache made %d tracked fetches", n)
	}
	if st := c.Statistics(); st.Used != 0 || st.Hits != 0 {
		t.Fatalf("a stopped cache kept or served local copies: %+v", st)
	}
}

// Tracking down at Start, then back after Stop: the store re-establishes
// tracking in the background for the sink Start registered; once Stop has
// returned that must not make the cache healthy, and the sink must be gone.
//
// Catches the same f71d369 defect as above, through the other door: there
// the background resubscription was the cache's own loop, racing Stop (the
// check run on f71d369 is the one quoted above).
func TestTrackingBackAfterStopLeavesTheCacheStopped(t *testing.T) {
	ctx := t.Context()
	f, _ := newFakeStore(t)
	f.SetDown(true)
	c, err := New(f, Config{})
	check(t, err)
	check(t, c.Start(ctx))
	if c.Healthy() {
		t.Fatal("Healthy while tracking is down")
	}
	if f.Sinks() != 1 {
		t.Fatal("Start did not keep its sink registered while tracking is down")
	}
	check(t, c.Stop(ctx))
	f.SetDown(false)
	if c.Healthy() {
		t.Fatal("Healthy after Stop once tracking came back")
	}
	if n := f.Sinks(); n != 0 {
		t.Fatalf("%d sinks still registered after Stop", n)
	}
	waitFor(t, "the coarse clock goroutine to end", func() bool { return !goroutineRunning(fnRunClock) })
}

// A Stop whose ctx ends before the cache's goroutines do (here a detached
// fetch held inside the store) returns ctx's error and leaves a stopped
// cache that Start starts again and that serves: both when the old run's
// goroutines ended before the new Start (the slow fetch came back later),
// and when they are still running (the slow fetch comes back after the
// restart, and what it read is not kept).
//
// Catches f71d369: Stop returned ctx.Err() before clearing its cancel
// function, so every later Start failed with "already started" (issue item
// 6). Checked on f71d369 (its loop held in a resubscription that ignores
// ctx): the second Start returned domain.ErrInvalidArgument.
//
// Also catches, under -race, the first rewrite's single sync.WaitGroup for
// every run: the abandoned Wait of the failed Stop and the next Start's Add
// shared it (a reuse before the previous Wait returned: reported as a data
// race, and a panic of Wait in the worst interleaving).
func TestStartAfterAStopWhoseContextEnded(t *testing.T) {
	ctx := t.Context()
	f, peer := newFakeStore(t)
	for _, k := range []string{"slow1", "slow2", "k"} {
		check(t, peer.Set(ctx, "s|"+k, []byte(`"v1"`), 0))
	}
	c, s := newCache(t, f, Config{})

	// hold starts a read of key whose fetch is held once it read the value,
	// and makes the reader leave (its ctx ends): the fetch goes on, detached.
	hold := func(key string) *gate {
		t.Helper()
		g := f.GateFetch("s|" + key)
		rctx, cancel := context.WithCancel(ctx)
		left := make(chan error, 1)
		go func() {
			_, err := GetValue[string](rctx, s, key)
			left <- err
		}()
		<-g.arrived
		cancel()
		if err := <-left; !errors.Is(err, context.Canceled) {
			t.Fatalf("reader whose ctx ended: %v, want context.Canceled", err)
		}
		return g
	}
	failedStop := func() {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, time.Millisecond)
		defer cancel()
		if err := c.Stop(sctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Stop with a fetch held: %v, want context.DeadlineExceeded", err)
		}
		if c.Healthy() {
			t.Fatal("Healthy after a Stop whose ctx ended")
		}
	}
	restart := func() {
		t.Helper()
		check(t, c.Start(ctx))
		if !c.Healthy() {
			t.Fatal("not Healthy after Start")
		}
		c.ClearCache()
		mustGet(t, s, "k", "v1")
		fetches := f.fetches.Load()
		mustGet(t, s, "k", "v1")
		if f.fetches.Load() != fetches {
			t.Fatal("the restarted cache does not serve local copies")
		}
	}

	// The slow fetch comes back before the next Start.
	g := hold("slow1")
	failedStop()
	raced := c.Statistics().Raced
	g.Release()
	waitFor(t, "the stopped run's goroutines to end", func() bool {
		return c.Statistics().Raced == raced+1 && !goroutineRunning(fnStop) && !goroutineRunning(fnRunClock)
	})
	restart()

	// The slow fetch comes back after the next Start, the key changed
	// meanwhile: what it read is not kept.
	g = hold("slow2")
	failedStop()
	restart()
	check(t, peer.Set(ctx, "s|slow2", []byte(`"v2"`), 0))
	raced = c.Statistics().Raced
	g.Release()
	waitFor(t, "the old run's fetch to end", func() bool { return c.Statistics().Raced == raced+1 })
	mustGet(t, s, "slow2", "v2")
}

// Start on a started cache is refused, and leaves it running. (f71d369
// did the same: this spec guards the behaviour, it does not catch a defect.)
func TestStartOnAStartedCache(t *testing.T) {
	f, _ := newFakeStore(t)
	c, _ := newCache(t, f, Config{})
	if err := c.Start(t.Context()); !errors.Is(err, domain.ErrInvalidArgument) {
		t.Fatalf("second Start: %v, want domain.ErrInvalidArgument", err)
	}
	if !c.Healthy() {
		t.Fatal("a refused Start stopped the cache")
	}
	if f.Sinks() != 1 || f.tracks.Load() != 1 {
		t.Fatalf("a refused Start registered again: %d sinks, %d Tracks", f.Sinks(), f.tracks.Load())
	}
}

// The erase-broadcast subscription failing forever (an ACL user without
// the channel, maxclients) never delays an invalidation and never makes the
// cache unhealthy. The spec waits until the erase loop's backoff has grown
// to 200 ms (four failed subscriptions), then writes a held key twenty
// times from another client: each write is visible to the very next read,
// without waiting, all within a fraction of the 2 s maximum backoff.
//
// Catches f71d369: its one loop applied invalidations and retried the
// subscription, sleeping the backoff between two invalidations, so while
// the subscription failed they were applied one per backoff step, up to
// 2 s each, Healthy all along (issue item 6). Checked on f71d369: of six
// peer writes, the slowest was first seen 1.6 s after it returned.
func TestFailingEraseSubscriptionNeverDelaysInvalidations(t *testing.T) {
	ctx := t.Context()
	f, peer := newFakeStore(t)
	f.FailSubscribe(fmt.Errorf("NOPERM no permissions to access the channel: %w", domain.ErrUnavailable))
	check(t, peer.Set(ctx, "s|k", []byte(`"v0"`), 0))
	c, s := newCache(t, f, Config{})
	for range 4 {
		<-f.subCalled
	}
	if !c.Healthy() {
		t.Fatal("a failing erase subscription made the cache unhealthy")
	}
	mustGet(t, s, "k", "v0")
	begin := time.Now()
	for i := range 20 {
		want := fmt.Sprint("v", i+1)
		check(t, peer.Set(ctx, "s|k", []byte(`"`+want+`"`), 0))
		mustGet(t, s, "k", want)
		mustGet(t, s, "k", want) // and it is held again
	}
	if d := time.Since(begin); d > maxRetry/4 {
		t.Fatalf("20 invalidations took %v while the subscription failed", d)
	}
	st := c.Statistics()
	if !st.Healthy || st.Invalidations != 20 {
		t.Fatalf("after 20 remote writes: %+v", st)
	}
}

// Start with tracking down succeeds and passes every read through (one
// miss each, nothing kept), and the cache becomes healthy as soon as
// tracking is live, without a restart; the sink registered while tracking
// was down receives invalidations from then on.
//
// Catches f71d369 in part: there the cache came back only when its own
// loop's next retry succeeded (up to 2 s later), and pass-through reads
// counted neither a hit nor a miss.
func TestStartWithTrackingDown(t *testing.T) {
	ctx := t.Context()
	f, peer := newFakeStore(t)
	f.SetDown(true)
	check(t, peer.Set(ctx, "s|k", []byte(`"v1"`), 0))
	c, s := newCache(t, f, Config{})
	if c.Healthy() {
		t.Fatal("Healthy while tracking is down")
	}
	for range 3 {
		mustGet(t, s, "k", "v1")
	}
	if st := c.Statistics(); st.Misses != 3 || st.Hits != 0 || st.Used != 0 || f.fetches.Load() != 0 {
		t.Fatalf("pass-through: %+v, %d fetches", st, f.fetches.Load())
	}
	f.SetDown(false)
	if !c.Healthy() {
		t.Fatal("not Healthy once tracking is live")
	}
	mustGet(t, s, "k", "v1")
	mustGet(t, s, "k", "v1")
	if n := f.fetches.Load(); n != 1 {
		t.Fatalf("%d fetches for two reads once healthy, want 1", n)
	}
	check(t, peer.Set(ctx, "s|k", []byte(`"v2"`), 0))
	mustGet(t, s, "k", "v2")
}

// A read whose fetch is in flight when Stop is called is served (read the
// plain way), not failed: Stop ends the run's ctx, which the detached fetch
// runs under, but the reader's own ctx is live and must not see
// context.Canceled.
//
// A regression of the rewrite, not of f71d369 (there the fetch ran under
// the reader's ctx, and Stop did not touch it): the detached fetch's error
// went to the reader as is.
func TestAReadInFlightWhenStopIsCalledIsServed(t *testing.T) {
	ctx := t.Context()
	f, peer := newFakeStore(t)
	check(t, peer.Set(ctx, "s|k", []byte(`"v"`), 0))
	c, s := newCache(t, f, Config{})
	g := f.GateRead("s|k")
	type result struct {
		v   string
		err error
	}
	got := make(chan result, 1)
	go func() {
		v, err := GetValue[string](ctx, s, "k")
		got <- result{v, err}
	}()
	<-g.arrived
	check(t, c.Stop(ctx))
	if r := <-got; r.err != nil || r.v != "v" {
		t.Fatalf("a read in flight at Stop: %q, %v; want the value", r.v, r.err)
	}
}
