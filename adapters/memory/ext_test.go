package memory

import (
	"errors"
	"testing"
	"time"

	"github.com/rediscache/rediscache/domain"
)

// counter is an extension value for the tests.
type counter struct{ n int }

func TestWithExt(t *testing.T) {
	a := newStore(t, Config{})
	b := a.Peer()
	ch := track(t, b) // b's own writes are reported to its sinks

	incr := func(s *Store, key string) (int, error) {
		var n int
		err := s.withExt(bg, "incr", key, "counter", func(cur any) (any, bool, error) {
			c, _ := cur.(*counter)
			if c == nil {
				c = &counter{}
			}
			c.n++
			n = c.n
			return c, true, nil
		})
		return n, err
	}
	read := func(s *Store, key string) (n int, err error) {
		err = s.withExt(bg, "read", key, "counter", func(cur any) (any, bool, error) {
			if c, ok := cur.(*counter); ok {
				n = c.n
			}
			return nil, false, nil
		})
		return n, err
	}

	if n, err := incr(b, "c"); n != 1 || err != nil {
		t.Fatalf("incr = %d, %v", n, err)
	}
	expectKeys(t, ch, "c")
	if n, _ := incr(b, "c"); n != 2 {
		t.Fatalf("incr = %d", n)
	}
	expectKeys(t, ch, "c")
	if n, err := read(b, "c"); n != 2 || err != nil {
		t.Fatalf("read = %d, %v", n, err)
	}
	expectKeys(t, ch)

	// Extension keys are keys.
	if n, _ := a.Exists(bg, "c"); n != 1 {
		t.Error("Exists = 0")
	}
	_, err := a.Get(bg, "c")
	mustIs(t, err, domain.ErrWrongType)
	_, err = a.LPush(bg, "c", "x")
	mustIs(t, err, domain.ErrWrongType)
	if ok, _ := a.Expire(bg, "c", time.Hour); !ok {
		t.Error("Expire = false")
	}
	if ttl, _ := a.TTL(bg, "c"); ttl != time.Hour {
		t.Errorf("TTL = %v", ttl)
	}
	_, _ = incr(a, "c")
	if ttl, _ := a.TTL(bg, "c"); ttl != time.Hour {
		t.Errorf("TTL after write = %v (must be kept)", ttl)
	}

	// WRONGTYPE against Redis types and other kinds.
	must(t, a.Set(bg, "s", nil, 0))
	_, err = incr(a, "s")
	mustIs(t, err, domain.ErrWrongType)
	err = a.withExt(bg, "other", "c", "other-kind", func(any) (any, bool, error) { return nil, false, nil })
	mustIs(t, err, domain.ErrWrongType)

	// Errors are returned as is and store nothing.
	boom := errors.New("boom")
	err = a.withExt(bg, "fail", "new", "counter", func(any) (any, bool, error) { return &counter{}, true, boom })
	if err != boom {
		t.Errorf("err = %v", err)
	}
	if n, _ := a.Exists(bg, "new"); n != 0 {
		t.Error("failed write stored a value")
	}

	// nil deletes.
	err = b.withExt(bg, "del", "c", "counter", func(any) (any, bool, error) { return nil, true, nil })
	must(t, err)
	expectKeys(t, ch, "c")
	if n, _ := a.Exists(bg, "c"); n != 0 {
		t.Error("deleted extension key exists")
	}
	_, err = read(a, "")
	mustIs(t, err, domain.ErrInvalidArgument)
}

func TestCloseStopsTimer(t *testing.T) {
	clock := newFakeClock()
	s := New(Config{}, WithClock(clock.Now)) // polls while keys have a ttl
	must(t, s.Set(bg, "k", nil, time.Hour))
	db := s.DB()
	db.mu.Lock()
	armed := db.timer != nil
	db.mu.Unlock()
	if !armed {
		t.Fatal("timer not armed")
	}
	must(t, s.Close())
	db.mu.Lock()
	defer db.mu.Unlock()
	if db.timer != nil || !db.closed {
		t.Fatal("timer still armed after the last Close")
	}
}

func TestExpiryHeapCompaction(t *testing.T) {
	clock := newFakeClock()
	s := newStore(t, Config{}, WithClock(clock.Now))
	for range 10000 {
		must(t, s.Set(bg, "k", nil, time.Hour))
	}
	db := s.DB()
	db.mu.Lock()
	n := len(db.expires)
	db.mu.Unlock()
	if n > 100 {
		t.Errorf("expiry heap holds %d items for 1 key", n)
	}
	clock.Advance(time.Hour)
	if n, _ := s.Exists(bg, "k"); n != 0 {
		t.Error("key did not expire")
	}
}
