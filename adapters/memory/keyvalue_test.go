package memory

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

func TestGetSet(t *testing.T) {
	s := newStore(t, Config{})
	_, err := s.Get(bg, "k")
	mustIs(t, err, domain.ErrNotFound)

	v := []byte("hello")
	must(t, s.Set(bg, "k", v, 0))
	v[0] = 'X' // the store keeps its own copy
	got, err := s.Get(bg, "k")
	must(t, err)
	if string(got) != "hello" {
		t.Fatalf("Get = %q", got)
	}
	got[0] = 'Y' // and hands out copies
	got, _ = s.Get(bg, "k")
	if string(got) != "hello" {
		t.Fatalf("Get after caller mutation = %q", got)
	}

	must(t, s.Set(bg, "nil", nil, 0))
	got, err = s.Get(bg, "nil")
	must(t, err)
	if got == nil || len(got) != 0 {
		t.Fatalf("Get of nil value = %#v, want empty non-nil", got)
	}
}

func TestSetReplacesAnyType(t *testing.T) {
	s := newStore(t, Config{})
	_, err := s.RPush(bg, "k", "a")
	must(t, err)
	_, err = s.Get(bg, "k")
	mustIs(t, err, domain.ErrWrongType)
	if err.Error() != `get "k": rediscache: wrong type: WRONGTYPE Operation against a key holding the wrong kind of value` {
		t.Errorf("error text %q", err)
	}
	must(t, s.Set(bg, "k", []byte("v"), 0))
	got, err := s.Get(bg, "k")
	must(t, err)
	if string(got) != "v" {
		t.Fatalf("Get = %q", got)
	}
}

func TestInvalidArguments(t *testing.T) {
	s := newStore(t, Config{})
	calls := map[string]func() error{
		"get":     func() error { _, err := s.Get(bg, ""); return err },
		"set":     func() error { return s.Set(bg, "", nil, 0) },
		"del":     func() error { _, err := s.Del(bg, "a", ""); return err },
		"exists":  func() error { _, err := s.Exists(bg, ""); return err },
		"expire":  func() error { _, err := s.Expire(bg, "", time.Second); return err },
		"ttl":     func() error { _, err := s.TTL(bg, ""); return err },
		"hset":    func() error { return s.HSet(bg, "", "f", nil) },
		"hgetall": func() error { _, err := s.HGetAll(bg, ""); return err },
		"sadd":    func() error { _, err := s.SAdd(bg, "", "m"); return err },
		"lpush":   func() error { _, err := s.LPush(bg, "", "v"); return err },
		"lrange":  func() error { _, err := s.LRange(bg, "", 0, -1); return err },
		"set-neg": func() error { return s.Set(bg, "k", nil, -time.Second) },
		"set-us":  func() error { return s.Set(bg, "k", nil, time.Microsecond) },
		"exp-neg": func() error { _, err := s.Expire(bg, "k", -1); return err },
		"scan":    func() error { return s.Scan(bg, "*", -1, func([]string) error { return nil }) },
		"hdelb": func() error {
			_, err := s.HDelBatch(bg, nil)
			if err != nil {
				return fmt.Errorf("empty batch: %v", err)
			}
			_, err = s.HDelBatch(bg, []ports.HashFields{{Key: ""}})
			return err
		},
		"srandmember": func() error { _, err := s.SRandMember(bg, "k", math.MinInt); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, domain.ErrInvalidArgument) {
			t.Errorf("%s: err = %v, want ErrInvalidArgument", name, err)
		}
	}
	// Del of an empty key list is a no-op.
	n, err := s.Del(bg)
	if n != 0 || err != nil {
		t.Errorf("Del() = %d, %v", n, err)
	}
}

func TestCancelledContext(t *testing.T) {
	s := newStore(t, Config{})
	ctx, cancel := context.WithCancel(bg)
	cancel()
	errs := []error{
		func() error { _, err := s.Get(ctx, "k"); return err }(),
		s.Set(ctx, "k", nil, 0),
		func() error { _, err := s.Del(ctx, "k"); return err }(),
		func() error { _, err := s.HGet(ctx, "k", "f"); return err }(),
		func() error { _, err := s.SMembers(ctx, "k"); return err }(),
		func() error { _, err := s.LPop(ctx, "k"); return err }(),
		s.Scan(ctx, "*", 0, func([]string) error { return nil }),
		func() error { _, err := s.Track(ctx, &recorder{}); return err }(),
		func() error { _, err := s.Fetch(ctx, "k"); return err }(),
		func() error { _, err := s.SugLen(ctx, "k"); return err }(),
		s.Ping(ctx),
		s.FlushAll(ctx),
	}
	for i, err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Errorf("call %d: err = %v, want context.Canceled", i, err)
		}
	}
}

func TestDelExists(t *testing.T) {
	s := newStore(t, Config{})
	must(t, s.Set(bg, "a", []byte("1"), 0))
	must(t, s.HSet(bg, "h", "f", []byte("1")))
	n, err := s.Exists(bg, "a", "a", "h", "missing")
	must(t, err)
	if n != 3 {
		t.Errorf("Exists = %d, want 3", n)
	}
	n, err = s.Del(bg, "a", "a", "h", "missing")
	must(t, err)
	if n != 2 {
		t.Errorf("Del = %d, want 2", n)
	}
	n, _ = s.Exists(bg, "a", "h")
	if n != 0 {
		t.Errorf("Exists after Del = %d", n)
	}
}

func TestExpireAndTTL(t *testing.T) {
	clock := newFakeClock()
	s := newStore(t, Config{}, WithClock(clock.Now))

	_, err := s.TTL(bg, "k")
	mustIs(t, err, domain.ErrNotFound)
	ok, err := s.Expire(bg, "k", time.Second)
	must(t, err)
	if ok {
		t.Error("Expire of a missing key = true")
	}

	must(t, s.Set(bg, "k", []byte("v"), 0))
	if ttl, _ := s.TTL(bg, "k"); ttl != 0 {
		t.Errorf("TTL of persistent key = %v", ttl)
	}
	if ok, _ := s.Expire(bg, "k", 0); ok {
		t.Error("persist of a persistent key = true")
	}
	if ok, _ := s.Expire(bg, "k", 1500*time.Microsecond); !ok {
		t.Error("Expire of an existing key = false")
	}
	if ttl, _ := s.TTL(bg, "k"); ttl != time.Millisecond {
		t.Errorf("TTL = %v, want 1ms (truncated like PX)", ttl)
	}
	if ok, _ := s.Expire(bg, "k", 10*time.Second); !ok {
		t.Error("Expire = false")
	}
	clock.Advance(2500 * time.Millisecond)
	if ttl, _ := s.TTL(bg, "k"); ttl != 7500*time.Millisecond {
		t.Errorf("TTL = %v, want 7.5s", ttl)
	}
	clock.Advance(7500*time.Millisecond - time.Microsecond)
	if ttl, _ := s.TTL(bg, "k"); ttl != time.Millisecond {
		t.Errorf("TTL 1µs before expiry = %v, want 1ms (rounded up)", ttl)
	}
	clock.Advance(time.Microsecond)
	if _, err := s.TTL(bg, "k"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("TTL at the deadline: %v", err)
	}

	// Persist.
	must(t, s.Set(bg, "p", []byte("v"), time.Second))
	if ok, _ := s.Expire(bg, "p", 0); !ok {
		t.Error("persist of a volatile key = false")
	}
	clock.Advance(time.Hour)
	if _, err := s.Get(bg, "p"); err != nil {
		t.Errorf("persisted key: %v", err)
	}

	// Set clears the ttl unless given one.
	must(t, s.Set(bg, "s", []byte("v"), time.Second))
	must(t, s.Set(bg, "s", []byte("v"), 0))
	if ttl, _ := s.TTL(bg, "s"); ttl != 0 {
		t.Errorf("TTL after plain Set = %v", ttl)
	}

	// Collections keep their ttl when written.
	must(t, s.HSet(bg, "h", "a", nil))
	_, _ = s.Expire(bg, "h", time.Second)
	must(t, s.HSet(bg, "h", "b", nil))
	if ttl, _ := s.TTL(bg, "h"); ttl != time.Second {
		t.Errorf("TTL of written hash = %v", ttl)
	}
}

func TestExpiredKeysAreGone(t *testing.T) {
	clock := newFakeClock()
	s := newStore(t, Config{}, WithClock(clock.Now))
	must(t, s.Set(bg, "str", []byte("v"), time.Second))
	must(t, s.HSet(bg, "h", "f", []byte("v")))
	_, _ = s.Expire(bg, "h", time.Second)
	_, _ = s.SAdd(bg, "set", "m")
	_, _ = s.Expire(bg, "set", time.Second)
	_, _ = s.RPush(bg, "l", "a")
	_, _ = s.Expire(bg, "l", time.Second)
	clock.Advance(time.Second)

	if _, err := s.Get(bg, "str"); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("Get: %v", err)
	}
	if n, _ := s.Exists(bg, "str", "h", "set", "l"); n != 0 {
		t.Errorf("Exists = %d", n)
	}
	if m, _ := s.HGetAll(bg, "h"); len(m) != 0 {
		t.Errorf("HGetAll = %v", m)
	}
	if n, _ := s.SAdd(bg, "set", "m"); n != 1 {
		t.Errorf("SAdd on expired set = %d", n)
	}
	if n, _ := s.LPush(bg, "l", "b"); n != 1 {
		t.Errorf("LPush on expired list = %d", n)
	}
	if ttl, _ := s.TTL(bg, "set"); ttl != 0 {
		t.Errorf("recreated key inherits ttl %v", ttl)
	}
	// An expired key of another type is no WRONGTYPE.
	must(t, s.Set(bg, "x", []byte("v"), time.Second))
	clock.Advance(time.Second)
	if err := s.HSet(bg, "x", "f", nil); err != nil {
		t.Errorf("HSet on expired string: %v", err)
	}
	var keys []string
	must(t, s.Scan(bg, "*", 0, func(b []string) error { keys = append(keys, b...); return nil }))
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"l", "set", "x"}) {
		t.Errorf("Scan = %q", keys)
	}
}

func TestScan(t *testing.T) {
	s := newStore(t, Config{})
	for i := range 250 {
		must(t, s.Set(bg, fmt.Sprintf("site|k%03d", i), nil, 0))
	}
	must(t, s.Set(bg, "other|k", nil, 0))
	must(t, s.Set(bg, "site|[x]", nil, 0))

	var batches []int
	seen := map[string]bool{}
	err := s.Scan(bg, "site|k*", 0, func(keys []string) error {
		batches = append(batches, len(keys))
		for _, k := range keys {
			if seen[k] {
				t.Errorf("%q reported twice", k)
			}
			seen[k] = true
		}
		// fn may delete what it is given.
		_, err := s.Del(bg, keys...)
		return err
	})
	must(t, err)
	if !slices.Equal(batches, []int{100, 100, 50}) || len(seen) != 250 {
		t.Errorf("batches %v, %d keys", batches, len(seen))
	}
	if n, _ := s.Exists(bg, "site|k000", "site|k249"); n != 0 {
		t.Errorf("keys not deleted: %d", n)
	}

	var got []string
	must(t, s.Scan(bg, domain.EscapeGlob("site|[x]")+"*", 7, func(keys []string) error {
		got = append(got, keys...)
		return nil
	}))
	if !slices.Equal(got, []string{"site|[x]"}) {
		t.Errorf("escaped scan = %q", got)
	}

	got = nil
	must(t, s.Scan(bg, "", 0, func(keys []string) error { got = append(got, keys...); return nil }))
	if len(got) != 0 { // SCAN MATCH "" matches no key, as on Redis
		t.Errorf("empty pattern scan = %q", got)
	}

	stop := errors.New("stop")
	calls := 0
	err = s.Scan(bg, "*", 1, func([]string) error { calls++; return stop })
	if err != stop || calls != 1 {
		t.Errorf("Scan error = %v after %d calls", err, calls)
	}
}

// liveHeap returns the heap in use after a collection.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestScanBoundedMemory checks that Scan holds one batch, not the keyspace:
// over 300,000 keys (a snapshot of their names alone is 4.6 MiB) the live
// heap grows by less than 1 MiB; every key is reported exactly once. (fn
// does not delete: freed entries would hide the growth. The conformance
// suite checks that fn may delete.)
func TestScanBoundedMemory(t *testing.T) {
	const n = 300_000
	s := newStore(t, Config{})
	for i := range n {
		must(t, s.Set(bg, "big|"+strconv.Itoa(i), nil, 0))
	}
	must(t, s.Set(bg, "bigx|0", nil, 0)) // matched by no pattern below

	seen := make([]bool, n) // allocated before the baseline
	var calls int
	var peak uint64
	before := liveHeap()
	err := s.Scan(bg, "big|*", 500, func(keys []string) error {
		if calls++; calls%100 == 0 {
			peak = max(peak, liveHeap())
		}
		for _, k := range keys {
			i, err := strconv.Atoi(strings.TrimPrefix(k, "big|"))
			if err != nil || seen[i] {
				return fmt.Errorf("key %q reported twice or unexpected", k)
			}
			seen[i] = true
		}
		return nil
	})
	must(t, err)
	growth := int64(max(peak, liveHeap())) - int64(before)
	t.Logf("Scan of %d keys: %d batches, live heap growth %d KiB", n, calls, growth>>10)
	if growth > 1<<20 {
		t.Errorf("live heap grew by %d KiB during Scan, want < 1024", growth>>10)
	}
	if i := slices.Index(seen, false); i >= 0 {
		t.Errorf("key big|%d never reported", i)
	}
}
