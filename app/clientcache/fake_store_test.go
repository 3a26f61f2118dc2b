package clientcache

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/onsi/gomega"
	"go.uber.org/goleak"

	"github.com/rediscache/rediscache/adapters/memory"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// fakeStore is a ports.TrackedStore over a memory.Store (the data, and the
// reports of writes, stay real) whose tracking the test drives:
//
//   - tracking is up or down (SetDown): while down, Tracking is false,
//     Fetch fails with domain.ErrUnavailable and Track reports the failure
//     (keeping the sink registered, as the port says);
//   - Track, Fetch and Subscribe can be gated: they block on a channel the
//     test closes, and signal when they got there;
//   - every Fetch is made under the fake's current lease (one "tracked
//     connection"), which Revoke ends, with or without telling the sinks;
//   - the sinks' invalidations can be muted, to tell a local expiry from an
//     invalidation.
type fakeStore struct {
	*memory.Store

	down    atomic.Bool
	muted   atomic.Bool
	fetches atomic.Int64
	tracks  atomic.Int64
	subs    atomic.Int64

	mu        sync.Mutex
	root      *domain.Lease
	lease     *domain.Lease // the lease of the fetches made from now on
	sinks     map[*fakeSink]struct{}
	trackGate *gate
	fetchGate map[string]*gate // by full key: blocks after the read
	readGate  map[string]*gate // by full key: blocks before the read, or until ctx ends
	subErr    error            // every Subscribe fails with it when set
	subCalled chan struct{}    // receives (without blocking) on every Subscribe
}

var (
	_ ports.TrackedStore = (*fakeStore)(nil)
	_ ports.Broadcast    = (*fakeStore)(nil)
)

// gate blocks callers until opened, and tells the test when one arrived.
type gate struct {
	arrived chan struct{} // closed by the first caller
	open    chan struct{} // closed by Release
	once    sync.Once
	release sync.Once
}

func newGate() *gate { return &gate{arrived: make(chan struct{}), open: make(chan struct{})} }

func (g *gate) pass() {
	g.once.Do(func() { close(g.arrived) })
	<-g.open
}

// passCtx is pass for a caller that gives up when ctx ends, as a network
// read does.
func (g *gate) passCtx(ctx context.Context) error {
	g.once.Do(func() { close(g.arrived) })
	select {
	case <-g.open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Release opens the gate; it is idempotent.
func (g *gate) Release() { g.release.Do(func() { close(g.open) }) }

// newFakeStore returns a fake over a new memory DB, and a peer handle on the
// same DB (another process: its writes reach the fake's sinks only for keys
// the fake fetched). Both are closed at the end of the test.
func newFakeStore(t testing.TB, opts ...memory.Option) (*fakeStore, *memory.Store) {
	t.Helper()
	m := memory.New(memory.Config{}, opts...)
	peer := m.Peer()
	root := domain.NewLease(nil)
	f := &fakeStore{
		Store: m, root: root, lease: domain.NewLease(root),
		sinks: map[*fakeSink]struct{}{}, fetchGate: map[string]*gate{}, readGate: map[string]*gate{},
		subCalled: make(chan struct{}, 1024),
	}
	t.Cleanup(func() { _ = m.DB().Close() })
	return f, peer
}

// fakeSink is a sink registered through the fake: it forwards to the
// cache's sink unless the fake is muted.
type fakeSink struct {
	f    *fakeStore
	next ports.InvalidationSink
}

func (s *fakeSink) Invalidate(keys []string) {
	if !s.f.muted.Load() {
		s.next.Invalidate(keys)
	}
}

func (s *fakeSink) Drop(scope *domain.Lease, reason string) { s.next.Drop(scope, reason) }

// Track registers sink with the memory store (for the reports of writes)
// and with the fake (for Revoke), then passes the track gate if one is set.
func (f *fakeStore) Track(ctx context.Context, sink ports.InvalidationSink) (func(), error) {
	f.tracks.Add(1)
	fs := &fakeSink{f: f, next: sink}
	untrack, err := f.Store.Track(ctx, fs)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.sinks[fs] = struct{}{}
	g := f.trackGate
	f.mu.Unlock()
	remove := func() {
		untrack()
		f.mu.Lock()
		delete(f.sinks, fs)
		f.mu.Unlock()
	}
	if g != nil {
		g.pass()
	}
	if f.down.Load() {
		return remove, fmt.Errorf("fake track: %w: tracking down", domain.ErrUnavailable)
	}
	return remove, nil
}

// Sinks returns how many sinks are registered now.
func (f *fakeStore) Sinks() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sinks)
}

// Fetch reads key through the memory store, under the fake's current lease,
// then passes the key's fetch gate if one is set: the value is in hand but
// not yet returned.
func (f *fakeStore) Fetch(ctx context.Context, key string) (domain.Fetched, error) {
	if f.down.Load() {
		return domain.Fetched{}, fmt.Errorf("fake fetch %q: %w: tracking down", key, domain.ErrUnavailable)
	}
	f.fetches.Add(1)
	f.mu.Lock()
	lease := f.lease
	g := f.fetchGate[key]
	rg := f.readGate[key]
	f.mu.Unlock()
	if rg != nil {
		if err := rg.passCtx(ctx); err != nil {
			return domain.Fetched{}, err
		}
	}
	fetched, err := f.Store.Fetch(ctx, key)
	if err != nil {
		return fetched, err
	}
	fetched.Lease = lease
	if g != nil {
		g.pass()
	}
	return fetched, nil
}

// Tracking is false while the fake is down.
func (f *fakeStore) Tracking() bool { return !f.down.Load() && f.Store.Tracking() }

// Subscribe fails with subErr when it is set; else it delegates.
func (f *fakeStore) Subscribe(ctx context.Context, channel string) (<-chan []byte, error) {
	f.subs.Add(1)
	select {
	case f.subCalled <- struct{}{}:
	default:
	}
	f.mu.Lock()
	err := f.subErr
	f.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return f.Store.Subscribe(ctx, channel)
}

// GateTrack makes the next Tracks block until the returned gate is released.
func (f *fakeStore) GateTrack() *gate {
	g := newGate()
	f.mu.Lock()
	f.trackGate = g
	f.mu.Unlock()
	return g
}

// GateFetch makes the Fetches of the full key block, once they have read
// the value, until the returned gate is released.
func (f *fakeStore) GateFetch(key string) *gate { return f.gateIn(f.fetchGate, key) }

// GateRead makes the Fetches of the full key block before they read,
// until the returned gate is released or the fetch's ctx ends (then the
// Fetch fails with ctx's error, as a cancelled network read does).
func (f *fakeStore) GateRead(key string) *gate { return f.gateIn(f.readGate, key) }

// gateIn sets a new gate for key in m, one of the fake's gate maps.
func (f *fakeStore) gateIn(m map[string]*gate, key string) *gate {
	g := newGate()
	f.mu.Lock()
	m[key] = g
	f.mu.Unlock()
	return g
}

// Ungate removes every gate (the gates already passed stay as they are).
func (f *fakeStore) Ungate() {
	f.mu.Lock()
	f.trackGate = nil
	clear(f.fetchGate)
	clear(f.readGate)
	f.mu.Unlock()
}

// FailSubscribe makes every later Subscribe fail with err (nil: succeed).
func (f *fakeStore) FailSubscribe(err error) {
	f.mu.Lock()
	f.subErr = err
	f.mu.Unlock()
}

// CurrentLease is the lease the next fetches are made under.
func (f *fakeStore) CurrentLease() *domain.Lease {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lease
}

// NextLease makes later fetches use a new lease (another tracked
// connection) without revoking the current one, and returns the new one.
func (f *fakeStore) NextLease() *domain.Lease {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lease = domain.NewLease(f.root)
	return f.lease
}

// Revoke ends the current lease, as a lost tracked connection does: later
// fetches get a new lease, and, when tell is set, the sinks are told to
// drop what was fetched under the old one. A revoked lease is revoked
// before its Drop, as the port says.
func (f *fakeStore) Revoke(tell bool) *domain.Lease {
	f.mu.Lock()
	old := f.lease
	f.lease = domain.NewLease(f.root)
	sinks := make([]*fakeSink, 0, len(f.sinks))
	for s := range f.sinks {
		sinks = append(sinks, s)
	}
	f.mu.Unlock()
	old.Revoke()
	if tell {
		for _, s := range sinks {
			s.Drop(old, domain.ReasonConnLost)
		}
	}
	return old
}

// Tell reports the drop of scope to the sinks (a late Drop after Revoke).
func (f *fakeStore) Tell(scope *domain.Lease) {
	f.mu.Lock()
	sinks := make([]*fakeSink, 0, len(f.sinks))
	for s := range f.sinks {
		sinks = append(sinks, s)
	}
	f.mu.Unlock()
	for _, s := range sinks {
		s.Drop(scope, domain.ReasonConnLost)
	}
}

// SetDown takes tracking down (every lease revoked and dropped, as a lost
// invalidation connection does) or brings it back up.
func (f *fakeStore) SetDown(down bool) {
	f.down.Store(down)
	if down {
		f.Revoke(true)
	}
}

// fakeClock is a clock for WithClock (and memory.WithClock) that moves only
// when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// newCache returns a started ClientCache over f, stopped at the end of the
// test, and the handle of site "s".
func newCache(t testing.TB, f *fakeStore, cfg Config, opts ...Option) (*ClientCache, *Site) {
	t.Helper()
	c, err := New(f, cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		f.Ungate()
		if err := c.Stop(context.Background()); err != nil {
			t.Errorf("Stop: %v", err)
		}
	})
	s, err := c.Site("s")
	if err != nil {
		t.Fatal(err)
	}
	return c, s
}

// check fails the test now when err is not nil.
func check(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// mustGet reads key of s as a string and fails the test unless it is want.
func mustGet(t testing.TB, s *Site, key, want string) {
	t.Helper()
	got, err := GetValue[string](context.Background(), s, key)
	if err != nil || got != want {
		t.Fatalf("GetValue(%q) = %q, %v; want %q", key, got, err, want)
	}
}

// mustMiss reads key of s and fails the test unless it is not found.
func mustMiss(t testing.TB, s *Site, key string) {
	t.Helper()
	got, err := GetValue[string](context.Background(), s, key)
	if !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("GetValue(%q) = %q, %v; want domain.ErrNotFound", key, got, err)
	}
}

// counts is the part of Statistics a spec compares as a whole.
type counts struct{ hits, misses, negHits uint64 }

func countsOf(c *ClientCache) counts {
	s := c.Statistics()
	return counts{s.Hits, s.Misses, s.NegativeHits}
}

// checkAccounting fails the test unless the counts of the local copy
// (entries, bytes, remembered misses) match a recount of its maps, no
// placeholder is left, the eviction policy holds exactly those entries and
// bytes (an entry outside it could never be evicted), and the bounds hold.
// Call it while no operation runs.
func checkAccounting(t testing.TB, c *ClientCache) {
	t.Helper()
	entries, bytes := c.local.recount()
	var negative, placeholders int64
	c.local.each(func(e *entry) {
		switch {
		case e.token != 0:
			placeholders++
		case e.missing:
			negative++
		}
	})
	st := c.Statistics()
	if int64(st.Used) != entries || st.Bytes != bytes || int64(st.NegativeEntries) != negative {
		t.Fatalf("accounting: Used=%d Bytes=%d NegativeEntries=%d, recount: %d entries, %d bytes, %d negative",
			st.Used, st.Bytes, st.NegativeEntries, entries, bytes, negative)
	}
	if placeholders != 0 {
		t.Fatalf("%d placeholders left with no fetch running", placeholders)
	}
	if n, w := c.local.p.Len(), c.local.p.Weight(); n != entries || w != bytes {
		t.Fatalf("the policy holds %d entries and %d bytes, the maps %d and %d", n, w, entries, bytes)
	}
	if st.Used > st.Capacity || (st.MaxBytes > 0 && st.Bytes > st.MaxBytes) {
		t.Fatalf("bounds: %d/%d entries, %d/%d bytes", st.Used, st.Capacity, st.Bytes, st.MaxBytes)
	}
}

// goroutineBlocked reports whether a goroutine running fn (a function name
// as printed in stacks) is blocked in state (e.g. "sync.Mutex.Lock").
func goroutineBlocked(fn, state string) bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		head, _, _ := strings.Cut(g, "\n")
		if strings.Contains(head, "["+state) && strings.Contains(g, fn+"(") {
			return true
		}
	}
	return false
}

// goroutineRunning reports whether any goroutine has fn in its stack.
func goroutineRunning(fn string) bool {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	return strings.Contains(string(buf), fn+"(")
}

// waitFor awaits cond (gomega's Eventually, 5 s at most): for events the
// code under test gives no channel for (a goroutine parked on a lock, a
// counter reaching a value).
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	gomega.NewWithT(t).Eventually(cond).WithTimeout(5*time.Second).WithPolling(100*time.Microsecond).
		Should(gomega.BeTrue(), "waiting for %s", what)
}
