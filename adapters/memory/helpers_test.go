package memory

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/rediscache/rediscache/domain"
)

// fakeClock is a clock for WithClock that moves only when told.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// newStore returns a store closed at the end of the test.
func newStore(t *testing.T, cfg Config, opts ...Option) *Store {
	t.Helper()
	s := New(cfg, opts...)
	t.Cleanup(func() { _ = s.DB().Close() })
	return s
}

// recorder is an InvalidationSink that records what it is told.
type recorder struct {
	mu    sync.Mutex
	keys  []string
	drops []string // reasons
}

func (r *recorder) Invalidate(keys []string) {
	r.mu.Lock()
	r.keys = append(r.keys, keys...)
	r.mu.Unlock()
}

func (r *recorder) Drop(_ *domain.Lease, reason string) {
	r.mu.Lock()
	r.drops = append(r.drops, reason)
	r.mu.Unlock()
}

// take returns and forgets what was reported so far.
func (r *recorder) take() ([]string, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, d := r.keys, r.drops
	r.keys, r.drops = nil, nil
	return k, d
}

// track registers a new recorder with s.
func track(t *testing.T, s *Store) *recorder {
	t.Helper()
	r := &recorder{}
	untrack, err := s.Track(t.Context(), r)
	if err != nil {
		t.Fatalf("Track: %v", err)
	}
	t.Cleanup(untrack)
	return r
}

// expectKeys checks that exactly keys (in any order) were reported since
// the last check. Reports are synchronous: no waiting.
func expectKeys(t *testing.T, r *recorder, keys ...string) {
	t.Helper()
	got, drops := r.take()
	if len(drops) > 0 || !sameSet(got, keys) {
		t.Fatalf("got keys %q drops %q, want keys %q", got, drops, keys)
	}
}

// fetch fetches key through s and fails on an error.
func fetch(t *testing.T, s *Store, key string) domain.Fetched {
	t.Helper()
	f, err := s.Fetch(bg, key)
	if err != nil {
		t.Fatalf("Fetch %q: %v", key, err)
	}
	return f
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]int{}
	for _, x := range a {
		m[x]++
	}
	for _, x := range b {
		m[x]--
	}
	for _, n := range m {
		if n != 0 {
			return false
		}
	}
	return true
}

func mustIs(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("err = %v, want %v", err, target)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

var bg = context.Background()
