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

// subscribe subscribes s and returns the channel.
func subscribe(t *testing.T, s *Store) <-chan domain.Invalidation {
	t.Helper()
	ch, err := s.Invalidations(t.Context())
	if err != nil {
		t.Fatalf("Invalidations: %v", err)
	}
	return ch
}

// receive waits up to a second for one event.
func receive(t *testing.T, ch <-chan domain.Invalidation) domain.Invalidation {
	t.Helper()
	select {
	case ev, ok := <-ch:
		if !ok {
			t.Fatal("channel closed")
		}
		return ev
	case <-time.After(time.Second):
		t.Fatal("no invalidation within 1s")
	}
	return domain.Invalidation{}
}

// expectKeys waits for one event listing exactly keys (in any order).
func expectKeys(t *testing.T, ch <-chan domain.Invalidation, keys ...string) {
	t.Helper()
	ev := receive(t, ch)
	if ev.All || !sameSet(ev.Keys, keys) {
		t.Fatalf("got %+v, want keys %q", ev, keys)
	}
}

// expectNone checks that nothing arrives for a short while.
func expectNone(t *testing.T, ch <-chan domain.Invalidation) {
	t.Helper()
	select {
	case ev, ok := <-ch:
		t.Fatalf("unexpected event %+v (open %v)", ev, ok)
	case <-time.After(30 * time.Millisecond):
	}
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
