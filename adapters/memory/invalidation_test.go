package memory

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

func TestInvalidationsNoLoop(t *testing.T) {
	a := newStore(t, Config{})
	b := a.Peer()
	chA := subscribe(t, a)
	chB := subscribe(t, b)

	must(t, a.Set(bg, "k", []byte("v"), 0))
	expectKeys(t, chB, "k")
	expectNone(t, chA)

	must(t, b.HSet(bg, "h", "f", nil))
	expectKeys(t, chA, "h")
	expectNone(t, chB)
}

func TestInvalidationsEveryChange(t *testing.T) {
	a := newStore(t, Config{})
	b := a.Peer()
	ch := subscribe(t, a)

	type step struct {
		name string
		do   func() error
		keys []string // nil: no event
	}
	steps := []step{
		{"set", func() error { return b.Set(bg, "k", []byte("v"), 0) }, []string{"k"}},
		{"expire", func() error { _, err := b.Expire(bg, "k", time.Hour); return err }, []string{"k"}},
		{"persist", func() error { _, err := b.Expire(bg, "k", 0); return err }, []string{"k"}},
		{"persist again", func() error { _, err := b.Expire(bg, "k", 0); return err }, nil},
		{"expire missing", func() error { _, err := b.Expire(bg, "zz", time.Hour); return err }, nil},
		{"get", func() error { _, err := b.Get(bg, "k"); return err }, nil},
		{"del", func() error { _, err := b.Del(bg, "k", "zz"); return err }, []string{"k"}},
		{"del missing", func() error { _, err := b.Del(bg, "k"); return err }, nil},
		{"hset", func() error { return b.HSet(bg, "h", "f", nil) }, []string{"h"}},
		{"hdel none", func() error { _, err := b.HDel(bg, "h", "zz"); return err }, nil},
		{"hdel last", func() error { _, err := b.HDel(bg, "h", "f"); return err }, []string{"h"}},
		{"hdelbatch", func() error {
			_ = b.HSet(bg, "h1", "f", nil) // event h1
			_ = b.HSet(bg, "h2", "f", nil) // event h2
			_, err := b.HDelBatch(bg, []ports.HashFields{{Key: "h1", Fields: []string{"f"}}, {Key: "h2", Fields: []string{"f", "g"}}, {Key: "h1", Fields: []string{"f"}}})
			return err
		}, nil},
		{"sadd", func() error { _, err := b.SAdd(bg, "s", "a", "b"); return err }, []string{"s"}},
		{"sadd existing", func() error { _, err := b.SAdd(bg, "s", "a"); return err }, nil},
		{"srem", func() error { _, err := b.SRem(bg, "s", "a"); return err }, []string{"s"}},
		{"srem missing", func() error { _, err := b.SRem(bg, "s", "zz"); return err }, nil},
		{"spop", func() error { _, err := b.SPop(bg, "s"); return err }, []string{"s"}},
		{"lpush", func() error { _, err := b.LPush(bg, "l", "a", "b"); return err }, []string{"l"}},
		{"rpush", func() error { _, err := b.RPush(bg, "l", "c"); return err }, []string{"l"}},
		{"lpop", func() error { _, err := b.LPop(bg, "l"); return err }, []string{"l"}},
		{"rpop", func() error { _, err := b.RPop(bg, "l"); return err }, []string{"l"}},
		{"ltrim", func() error { return b.LTrim(bg, "l", 0, -1) }, []string{"l"}},
		{"ltrim empty", func() error { return b.LTrim(bg, "l", 1, 0) }, []string{"l"}},
		{"lpop missing", func() error { _, err := b.LPop(bg, "l"); return err }, nil},
	}
	for _, st := range steps {
		if err := st.do(); err != nil && !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("%s: %v", st.name, err)
		}
		if st.name == "hdelbatch" {
			expectKeys(t, ch, "h1")
			expectKeys(t, ch, "h2")
			expectKeys(t, ch, "h1", "h2")
			continue
		}
		if st.keys == nil {
			expectNone(t, ch)
			continue
		}
		ev := receive(t, ch)
		if ev.All || !sameSet(ev.Keys, st.keys) {
			t.Fatalf("%s: got %+v, want %q", st.name, ev, st.keys)
		}
	}
}

func TestInvalidationsOrder(t *testing.T) {
	a := newStore(t, Config{})
	b := a.Peer()
	ch := subscribe(t, a)
	for i := range 500 {
		must(t, b.Set(bg, fmt.Sprint(i), nil, 0))
	}
	for i := range 500 {
		expectKeys(t, ch, fmt.Sprint(i))
	}
}

func TestInvalidationsFlush(t *testing.T) {
	a := newStore(t, Config{})
	b := a.Peer()
	chA := subscribe(t, a)
	chB := subscribe(t, b)
	must(t, a.Set(bg, "k", nil, 0))
	expectKeys(t, chB, "k")
	must(t, a.FlushAll(bg))
	for _, ch := range []<-chan domain.Invalidation{chA, chB} {
		ev := receive(t, ch)
		if !ev.All || ev.Reason != domain.ReasonFlush {
			t.Errorf("got %+v, want flush", ev)
		}
	}
	if n, _ := b.Exists(bg, "k"); n != 0 {
		t.Error("key survived the flush")
	}
}

func TestInvalidationsOverflow(t *testing.T) {
	a := newStore(t, Config{InvalidationBuffer: 4})
	b := a.Peer()
	ch := subscribe(t, a)
	for i := range 10 {
		must(t, b.Set(bg, fmt.Sprint(i), nil, 0))
	}
	// Nothing blocked; the consumer finds an overflow All and only what
	// came after it.
	ev := receive(t, ch)
	if !ev.All || ev.Reason != domain.ReasonOverflow {
		t.Fatalf("first event %+v, want overflow", ev)
	}
	var rest []string
	for len(ch) > 0 {
		rest = append(rest, (<-ch).Keys...)
	}
	if len(rest) > 3 {
		t.Errorf("events after the All: %q", rest)
	}
	// Delivery resumes normally.
	must(t, b.Set(bg, "after", nil, 0))
	expectKeys(t, ch, "after")

	// A consumer that reads concurrently never misses a change: the keys
	// reported after the last All are, in order, every key written after
	// the writes it covers.
	done := make(chan []domain.Invalidation)
	go func() {
		var got []domain.Invalidation
		for ev := range ch {
			got = append(got, ev)
			runtime.Gosched()
		}
		done <- got
	}()
	var written []string
	for i := range 2000 {
		k := fmt.Sprint("c", i)
		written = append(written, k)
		must(t, b.Set(bg, k, nil, 0))
	}
	must(t, a.Close()) // closes ch once the buffered events are read
	got := <-done
	last := -1
	for i, ev := range got {
		if ev.All {
			last = i
		}
	}
	var reported []string
	for _, ev := range got[last+1:] {
		reported = append(reported, ev.Keys...)
	}
	if last < 0 && len(reported) != len(written) {
		t.Fatalf("no All and only %d of %d keys reported", len(reported), len(written))
	}
	if !slices.Equal(reported, written[len(written)-len(reported):]) {
		t.Fatalf("keys after the last All are not the tail of the writes: %q", reported)
	}
}

func TestInvalidationsExpiry(t *testing.T) {
	// Real clock: the timer reports keys nobody touches, to every
	// subscriber including the writer's own.
	a := newStore(t, Config{})
	b := a.Peer()
	chA := subscribe(t, a)
	chB := subscribe(t, b)
	start := time.Now()
	must(t, a.Set(bg, "e", nil, 30*time.Millisecond))
	expectKeys(t, chB, "e")
	expectKeys(t, chA, "e")
	if d := time.Since(start); d < 30*time.Millisecond || d > 500*time.Millisecond {
		t.Errorf("expiry reported after %v", d)
	}
	expectKeys(t, chB, "e")
	if n, _ := b.Exists(bg, "e"); n != 0 {
		t.Error("expired key exists")
	}
}

func TestInvalidationsExpiryFakeClock(t *testing.T) {
	clock := newFakeClock()
	a := newStore(t, Config{}, WithClock(clock.Now))
	ch := subscribe(t, a)
	must(t, a.Set(bg, "x", nil, time.Minute))
	must(t, a.Set(bg, "y", nil, 2*time.Minute))
	expectNone(t, ch)
	clock.Advance(time.Minute)
	expectKeys(t, ch, "x")
	if n, _ := a.Exists(bg, "y"); n != 1 {
		t.Error("y expired early")
	}
	clock.Advance(time.Minute)
	expectKeys(t, ch, "y")
	expectNone(t, ch)

	// Lazy expiry by a command reports the key before the command's own
	// change.
	b := a.Peer()
	must(t, b.Set(bg, "z", nil, time.Second))
	expectKeys(t, ch, "z")
	clock.Advance(time.Second)
	must(t, b.HSet(bg, "z", "f", nil))
	expectKeys(t, ch, "z") // expiry (may come from the timer)
	expectKeys(t, ch, "z") // the HSet
}

func TestInvalidationsEnd(t *testing.T) {
	a := newStore(t, Config{})
	ctx, cancel := context.WithCancel(bg)
	ch, err := a.Invalidations(ctx)
	must(t, err)
	cancel()
	select {
	case _, ok := <-ch:
		if ok {
			t.Fatal("event after cancel")
		}
	case <-time.After(time.Second):
		t.Fatal("channel not closed after cancel")
	}

	ch2 := subscribe(t, a)
	must(t, a.Close())
	if _, ok := <-ch2; ok {
		t.Fatal("channel open after Close")
	}
	_, err = a.Invalidations(bg)
	mustIs(t, err, domain.ErrClosed)
}

func TestClose(t *testing.T) {
	a := New(Config{})
	b := a.Peer()
	chB := subscribe(t, b)
	must(t, a.Set(bg, "k", []byte("v"), time.Hour))
	expectKeys(t, chB, "k")
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
		func() error { _, err := a.Invalidations(bg); return err }(),
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
	c := b.Peer()
	must(t, c.Set(bg, "k2", nil, 0))
	expectKeys(t, chB, "k2")
	must(t, b.Close())
	if _, ok := <-chB; ok {
		t.Fatal("channel open after Close")
	}
	must(t, c.Close()) // last handle: the DB closes
	mustIs(t, c.Ping(bg), domain.ErrClosed)
	mustIs(t, b.Peer().Ping(bg), domain.ErrClosed)
	must(t, c.DB().Close())
}

func TestDBClose(t *testing.T) {
	a := New(Config{})
	b := a.Peer()
	ch := subscribe(t, b)
	must(t, a.Set(bg, "k", nil, time.Hour))
	must(t, a.DB().Close())
	must(t, a.DB().Close())
	mustIs(t, a.Ping(bg), domain.ErrClosed)
	mustIs(t, b.Ping(bg), domain.ErrClosed)
	for range ch { // the buffered event, then the end
	}
}

func TestConcurrentUse(t *testing.T) {
	a := newStore(t, Config{InvalidationBuffer: 16})
	ctx, cancel := context.WithCancel(bg)
	defer cancel()
	var wg sync.WaitGroup
	for w := range 4 {
		s := a.Peer()
		ch, err := s.Invalidations(ctx)
		must(t, err)
		wg.Add(2)
		go func() {
			defer wg.Done()
			for range ch {
			}
		}()
		go func() {
			defer wg.Done()
			for i := range 300 {
				k := fmt.Sprint("k", (w*7+i)%20)
				switch i % 6 {
				case 0:
					_ = s.Set(bg, k, []byte("v"), time.Millisecond*time.Duration(1+i%3))
				case 1:
					_, _ = s.Get(bg, k)
				case 2:
					_ = s.HSet(bg, k, "f", nil)
				case 3:
					_, _ = s.LPush(bg, k, "a")
				case 4:
					_, _ = s.Del(bg, k)
				case 5:
					_ = s.Scan(bg, "k1*", 3, func(keys []string) error { _, err := s.Del(bg, keys...); return err })
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	cancel()
	wg.Wait()
}

func TestOverflowIsLogged(t *testing.T) {
	core, logs := observer.New(zap.WarnLevel)
	a := newStore(t, Config{InvalidationBuffer: 1}, WithLogger(zap.New(core)))
	b := a.Peer()
	ch := subscribe(t, a)
	must(t, b.Set(bg, "1", nil, 0))
	must(t, b.Set(bg, "2", nil, 0))
	if ev := receive(t, ch); !ev.All || ev.Reason != domain.ReasonOverflow {
		t.Fatalf("got %+v", ev)
	}
	if logs.FilterMessage("invalidation buffer full, sending All").Len() != 1 {
		t.Errorf("logs: %v", logs.All())
	}
}
