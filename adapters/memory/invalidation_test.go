package memory

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

func TestTrackOwnWritesSynchronously(t *testing.T) {
	a := newStore(t, Config{})
	b := a.Peer()
	ra := track(t, a)
	rb := track(t, b)

	// Every write through a is reported to a's sinks before it returns,
	// fetched or not; b fetched nothing, so b hears nothing.
	must(t, a.Set(bg, "k", []byte("v"), 0))
	expectKeys(t, ra, "k")
	expectKeys(t, rb)
	must(t, a.HSet(bg, "h", "f", nil))
	expectKeys(t, ra, "h")
	_, err := a.Del(bg, "k", "h")
	must(t, err)
	expectKeys(t, ra, "k", "h")
	expectKeys(t, rb)
}

func TestTrackEveryChangeOfAFetchedKey(t *testing.T) {
	a := newStore(t, Config{})
	b := a.Peer()
	r := track(t, a)
	type step struct {
		name   string
		setup  func() error // through b, before the fetch
		change func() error // through b
		want   bool         // reported
	}
	none := func() error { return nil }
	setS := func() error { return b.Set(bg, "k", []byte("v"), 0) }
	steps := []step{
		{"set", setS, func() error { return b.Set(bg, "k", []byte("w"), 0) }, true},
		{"set of a missing key", none, setS, true},
		{"expire", setS, func() error { _, err := b.Expire(bg, "k", time.Hour); return err }, true},
		{"persist without ttl", setS, func() error { _, err := b.Expire(bg, "k", 0); return err }, false},
		{"del", setS, func() error { _, err := b.Del(bg, "k"); return err }, true},
		{"del of a missing key", none, func() error { _, err := b.Del(bg, "k"); return err }, false},
		{"hset", none, func() error { return b.HSet(bg, "k", "f", nil) }, true},
		{"rpush", none, func() error { _, err := b.RPush(bg, "k", "x"); return err }, true},
		{"get", setS, func() error { _, err := b.Get(bg, "k"); return err }, false},
	}
	for _, st := range steps {
		_, err := b.Del(bg, "k")
		must(t, err)
		must(t, st.setup())
		r.take()
		fetch(t, a, "k")
		must(t, st.change())
		if st.want {
			expectKeys(t, r, "k")
		} else {
			expectKeys(t, r)
		}
	}
}

func TestTrackOncePerFetch(t *testing.T) {
	a := newStore(t, Config{})
	b := a.Peer()
	r := track(t, a)
	must(t, b.Set(bg, "k", nil, 0))
	fetch(t, a, "k")
	must(t, b.Set(bg, "k", []byte("1"), 0))
	must(t, b.Set(bg, "k", []byte("2"), 0))
	expectKeys(t, r, "k")
	fetch(t, a, "k")
	must(t, b.Set(bg, "k", []byte("3"), 0))
	expectKeys(t, r, "k")
	// An own write untracks the key too, as on Redis.
	fetch(t, a, "k")
	must(t, a.Set(bg, "k", []byte("4"), 0))
	expectKeys(t, r, "k")
	must(t, b.Set(bg, "k", []byte("5"), 0))
	expectKeys(t, r)
}

func TestFetch(t *testing.T) {
	clock := newFakeClock()
	a := newStore(t, Config{}, WithClock(clock.Now))
	track(t, a)
	must(t, a.Set(bg, "forever", []byte("v"), 0))
	must(t, a.Set(bg, "volatile", []byte("w"), 1500*time.Millisecond))
	must(t, a.HSet(bg, "h", "f", nil))
	f := fetch(t, a, "forever")
	if !f.Found || string(f.Value) != "v" || f.TTL != 0 || !f.Lease.Valid() {
		t.Fatalf("forever: %+v", f)
	}
	f = fetch(t, a, "volatile")
	if !f.Found || f.TTL != 1500*time.Millisecond {
		t.Fatalf("volatile: %+v", f)
	}
	if f = fetch(t, a, "missing"); f.Found || f.Value != nil || !f.Lease.Valid() {
		t.Fatalf("missing: %+v", f)
	}
	_, err := a.Fetch(bg, "h")
	mustIs(t, err, domain.ErrWrongType)
	_, err = a.Fetch(bg, "")
	mustIs(t, err, domain.ErrInvalidArgument)
	// The value is a copy: changing it changes nothing stored.
	f = fetch(t, a, "forever")
	f.Value[0] = 'x'
	if got, _ := a.Get(bg, "forever"); string(got) != "v" {
		t.Fatalf("Fetch shares its value: %q", got)
	}
}

func TestTrackFlush(t *testing.T) {
	a := newStore(t, Config{})
	b := a.Peer()
	ra, rb := track(t, a), track(t, b)
	must(t, a.Set(bg, "k", nil, 0))
	ra.take()
	must(t, a.FlushAll(bg))
	for _, r := range []*recorder{ra, rb} {
		keys, drops := r.take()
		if len(keys) != 0 || len(drops) != 1 || drops[0] != domain.ReasonFlushAll {
			t.Errorf("got keys %q drops %q, want one flushall drop", keys, drops)
		}
	}
	if n, _ := b.Exists(bg, "k"); n != 0 {
		t.Error("key survived the flush")
	}
}

func TestTrackExpiry(t *testing.T) {
	// Real clock: the timer reports a fetched key nobody touches.
	a := newStore(t, Config{})
	b := a.Peer()
	r := track(t, b)
	start := time.Now()
	must(t, a.Set(bg, "e", nil, 30*time.Millisecond))
	fetch(t, b, "e")
	deadline := time.Now().Add(time.Second)
	for {
		if keys, _ := r.take(); len(keys) > 0 {
			if !sameSet(keys, []string{"e"}) {
				t.Fatalf("reported %q", keys)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("expiry not reported within 1s")
		}
		time.Sleep(time.Millisecond) // polling a synchronous report: nothing to await
	}
	if d := time.Since(start); d < 30*time.Millisecond {
		t.Errorf("expiry reported after %v", d)
	}
	if n, _ := b.Exists(bg, "e"); n != 0 {
		t.Error("expired key exists")
	}
}

func TestTrackExpiryFakeClock(t *testing.T) {
	clock := newFakeClock()
	a := newStore(t, Config{}, WithClock(clock.Now))
	r := track(t, a)
	must(t, a.Set(bg, "x", nil, time.Minute))
	must(t, a.Set(bg, "y", nil, 2*time.Minute))
	r.take()
	fetch(t, a, "x")
	fetch(t, a, "y")
	clock.Advance(time.Minute)
	// The timer polls every few milliseconds under a fake clock.
	for deadline := time.Now().Add(time.Second); ; time.Sleep(time.Millisecond) {
		if n, _ := a.Exists(bg, "x"); n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("x did not expire")
		}
	}
	expectKeys(t, r, "x")
	if n, _ := a.Exists(bg, "y"); n != 1 {
		t.Error("y expired early")
	}
}

func TestTrackCloseAndCancel(t *testing.T) {
	a := newStore(t, Config{})
	ctx, cancel := context.WithCancel(bg)
	cancel()
	_, err := a.Track(ctx, &recorder{})
	mustIs(t, err, context.Canceled)
	_, err = a.Track(bg, nil)
	mustIs(t, err, domain.ErrInvalidArgument)

	r := track(t, a)
	f := fetch(t, a, "k")
	must(t, a.Close())
	if f.Lease.Valid() {
		t.Error("lease valid after Close")
	}
	if _, drops := r.take(); len(drops) != 1 || drops[0] != domain.ReasonStop {
		t.Errorf("drops %q, want one stop", drops)
	}
	if a.Tracking() {
		t.Error("Tracking after Close")
	}
	_, err = a.Fetch(bg, "k")
	mustIs(t, err, domain.ErrClosed)
	_, err = a.Track(bg, &recorder{})
	mustIs(t, err, domain.ErrClosed)
}

func TestClose(t *testing.T) {
	a := New(Config{})
	b := a.Peer()
	rb := track(t, b)
	must(t, a.Set(bg, "k", []byte("v"), time.Hour))
	must(t, a.Close())
	must(t, a.Close()) // idempotent

	for i, err := range []error{
		a.Ping(bg),
		a.Set(bg, "k", nil, 0),
		func() error { _, err := a.Get(bg, "k"); return err }(),
		func() error { _, err := a.HGetAll(bg, "k"); return err }(),
		func() error { _, err := a.SAdd(bg, "k", "m"); return err }(),
		func() error { _, err := a.RPush(bg, "k", "m"); return err }(),
		a.Scan(bg, "*", 0, func([]string) error { return nil }),
		a.FlushAll(bg),
		func() error { _, err := a.Fetch(bg, "k"); return err }(),
		func() error { _, err := a.Peer().Get(bg, "k"); return err }(),
	} {
		if !errors.Is(err, domain.ErrClosed) {
			t.Errorf("call %d: err = %v, want ErrClosed", i, err)
		}
	}

	// The other handle still works.
	must(t, b.Ping(bg))
	got, err := b.Get(bg, "k")
	if err != nil || string(got) != "v" {
		t.Fatalf("Get through peer = %q, %v", got, err)
	}
	fetch(t, b, "k2")
	c := b.Peer()
	must(t, c.Set(bg, "k2", nil, 0))
	expectKeys(t, rb, "k2")
	must(t, b.Close())
	must(t, c.Close()) // last handle: the DB closes
	mustIs(t, c.Ping(bg), domain.ErrClosed)
	mustIs(t, b.Peer().Ping(bg), domain.ErrClosed)
	must(t, c.DB().Close())
}

func TestDBClose(t *testing.T) {
	a := New(Config{})
	b := a.Peer()
	r := track(t, b)
	must(t, a.Set(bg, "k", nil, time.Hour))
	must(t, a.DB().Close())
	must(t, a.DB().Close())
	mustIs(t, a.Ping(bg), domain.ErrClosed)
	mustIs(t, b.Ping(bg), domain.ErrClosed)
	if _, drops := r.take(); len(drops) != 1 {
		t.Errorf("drops %q, want one", drops)
	}
}

// TestConcurrentUse runs writers, fetchers and reports on several handles
// at once, for the race detector.
func TestConcurrentUse(t *testing.T) {
	a := newStore(t, Config{})
	var wg sync.WaitGroup
	for w := range 4 {
		s := a.Peer()
		track(t, s)
		wg.Go(func() {
			for i := range 300 {
				k := fmt.Sprint("k", (w*7+i)%20)
				switch i % 7 {
				case 0:
					_ = s.Set(bg, k, []byte("v"), time.Millisecond*time.Duration(1+i%3))
				case 1:
					_, _ = s.Fetch(bg, k)
				case 2:
					_ = s.HSet(bg, k, "f", nil)
				case 3:
					_, _ = s.LPush(bg, k, "a")
				case 4:
					_, _ = s.Del(bg, k)
				case 5:
					_ = s.Scan(bg, "k1*", 3, func(keys []string) error { _, err := s.Del(bg, keys...); return err })
				case 6:
					_, _ = s.HDelBatch(bg, []ports.HashFields{{Key: k, Fields: []string{"f"}}})
				}
			}
		})
	}
	wg.Wait()
}
