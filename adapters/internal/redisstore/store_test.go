package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rediscache/rediscache/adapters/internal/redisstore"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
	"github.com/rediscache/rediscache/tests/redistest"
)

// newStore starts a server and returns a Store on it (RESP2, as the
// adapters configure it).
func newStore(t *testing.T) (*redisstore.Store, *redistest.Server) {
	t.Helper()
	srv := redistest.StartServer(t)
	s := redisstore.New(redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: 2}),
		redisstore.WithEndpoint(srv.Addr()))
	t.Cleanup(func() { _ = s.Close() })
	return s, srv
}

// must returns v through a func that fails t if err is set:
// must(s.Get(ctx, k))(t).
func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func wantErr(t *testing.T, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("err = %v, want one matching %v", err, kind)
	}
}

func TestKeyValue(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)

	_, err := s.Get(ctx, "missing")
	wantErr(t, err, domain.ErrNotFound)

	if err := s.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if got := must(s.Get(ctx, "k"))(t); string(got) != "v" {
		t.Fatalf("Get = %q", got)
	}
	if err := s.Set(ctx, "nil", nil, 0); err != nil {
		t.Fatal(err)
	}
	if got := must(s.Get(ctx, "nil"))(t); got == nil || len(got) != 0 {
		t.Fatalf("Get of a nil value = %#v, want empty non-nil", got)
	}
	if ttl := must(s.TTL(ctx, "k"))(t); ttl != 0 {
		t.Fatalf("TTL of a persistent key = %v", ttl)
	}
	_, err = s.TTL(ctx, "missing")
	wantErr(t, err, domain.ErrNotFound)

	if err := s.Set(ctx, "t", []byte("v"), 1500*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if ttl := must(s.TTL(ctx, "t"))(t); ttl <= time.Second || ttl > 1500*time.Millisecond {
		t.Fatalf("TTL = %v, want about 1.5s (PX, not EX)", ttl)
	}
	if !must(s.Expire(ctx, "t", 0))(t) {
		t.Fatal("Expire 0 of a key with ttl = false")
	}
	if must(s.Expire(ctx, "t", 0))(t) {
		t.Fatal("Expire 0 of a key without ttl = true")
	}
	if !must(s.Expire(ctx, "t", time.Minute))(t) {
		t.Fatal("Expire of an existing key = false")
	}
	if must(s.Expire(ctx, "missing", time.Minute))(t) {
		t.Fatal("Expire of a missing key = true")
	}
	if err := s.Set(ctx, "short", []byte("v"), time.Millisecond); err != nil {
		t.Fatal(err)
	}
	time.Sleep(10 * time.Millisecond)
	_, err = s.Get(ctx, "short")
	wantErr(t, err, domain.ErrNotFound)

	wantErr(t, s.Set(ctx, "k", nil, -time.Second), domain.ErrInvalidArgument)
	wantErr(t, s.Set(ctx, "k", nil, time.Microsecond), domain.ErrInvalidArgument)
	wantErr(t, s.Set(ctx, "", nil, 0), domain.ErrInvalidArgument)
	_, err = s.Expire(ctx, "k", -1)
	wantErr(t, err, domain.ErrInvalidArgument)

	if n := must(s.Exists(ctx, "k", "k", "missing"))(t); n != 2 {
		t.Fatalf("Exists = %d, want 2", n)
	}
	if n := must(s.Exists(ctx))(t); n != 0 {
		t.Fatalf("Exists() = %d", n)
	}
	if n := must(s.Del(ctx))(t); n != 0 {
		t.Fatalf("Del() = %d", n)
	}
	if n := must(s.Del(ctx, "k", "t", "missing"))(t); n != 2 {
		t.Fatalf("Del = %d, want 2", n)
	}

	// WRONGTYPE
	must(s.LPush(ctx, "list", "a"))(t)
	_, err = s.Get(ctx, "list")
	wantErr(t, err, domain.ErrWrongType)
	// Set replaces a value of any type.
	if err := s.Set(ctx, "list", []byte("x"), 0); err != nil {
		t.Fatal(err)
	}
}

func TestScan(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)
	const n = 1000
	for i := range n {
		if err := s.Set(ctx, "scan:"+strconv.Itoa(i), nil, 0); err != nil {
			t.Fatal(err)
		}
	}
	must(s.SAdd(ctx, "other", "x"))(t)
	must(s.SAdd(ctx, "scan[x]", "x"))(t)

	seen := map[string]int{}
	calls := 0
	err := s.Scan(ctx, "scan:*", 50, func(keys []string) error {
		calls++
		if len(keys) == 0 {
			t.Error("empty batch")
		}
		for _, k := range keys {
			seen[k]++
		}
		// Deleting what we were given is allowed.
		_, err := s.Del(ctx, keys...)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != n {
		t.Fatalf("saw %d keys, want %d", len(seen), n)
	}
	for k, c := range seen {
		if c != 1 {
			t.Fatalf("key %q reported %d times", k, c)
		}
	}
	if calls < 2 {
		t.Fatalf("fn called %d times, want several batches", calls)
	}

	// An escaped pattern matches literally; an empty pattern matches
	// nothing (it is sent as MATCH "").
	var got []string
	collect := func(keys []string) error { got = append(got, keys...); return nil }
	if err := s.Scan(ctx, domain.EscapeGlob("scan[x]"), 0, collect); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{"scan[x]"}) {
		t.Fatalf("escaped scan = %q", got)
	}
	got = nil
	if err := s.Scan(ctx, "", 0, collect); err != nil || len(got) != 0 {
		t.Fatalf("scan with empty pattern = %q, %v", got, err)
	}

	stop := errors.New("stop")
	if err := s.Scan(ctx, "*", 0, func([]string) error { return stop }); err != stop {
		t.Fatalf("fn error = %v, want it returned as is", err)
	}
	wantErr(t, s.Scan(ctx, "*", -1, collect), domain.ErrInvalidArgument)
}

func TestHash(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)

	_, err := s.HGet(ctx, "h", "f")
	wantErr(t, err, domain.ErrNotFound)
	if m := must(s.HGetAll(ctx, "h"))(t); m == nil || len(m) != 0 {
		t.Fatalf("HGetAll of a missing hash = %#v", m)
	}
	if f := must(s.HKeys(ctx, "h"))(t); f == nil || len(f) != 0 {
		t.Fatalf("HKeys of a missing hash = %#v", f)
	}
	for _, f := range []string{"a", "b", "c"} {
		if err := s.HSet(ctx, "h", f, []byte("v"+f)); err != nil {
			t.Fatal(err)
		}
	}
	if v := must(s.HGet(ctx, "h", "b"))(t); string(v) != "vb" {
		t.Fatalf("HGet = %q", v)
	}
	_, err = s.HGet(ctx, "h", "zz")
	wantErr(t, err, domain.ErrNotFound)
	if !must(s.HExists(ctx, "h", "a"))(t) || must(s.HExists(ctx, "h", "zz"))(t) {
		t.Fatal("HExists wrong")
	}
	if m := must(s.HGetAll(ctx, "h"))(t); len(m) != 3 || string(m["c"]) != "vc" {
		t.Fatalf("HGetAll = %q", m)
	}
	keys := must(s.HKeys(ctx, "h"))(t)
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"a", "b", "c"}) {
		t.Fatalf("HKeys = %q", keys)
	}
	if n := must(s.HDel(ctx, "h", "a", "zz"))(t); n != 1 {
		t.Fatalf("HDel = %d", n)
	}
	if n := must(s.HDel(ctx, "h"))(t); n != 0 {
		t.Fatalf("HDel without fields = %d", n)
	}

	for _, f := range []string{"x", "y"} {
		if err := s.HSet(ctx, "h2", f, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Set(ctx, "str", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	n, err := s.HDelBatch(ctx, []ports.HashFields{
		{Key: "h", Fields: []string{"b", "zz"}},
		{Key: "str", Fields: []string{"x"}},
		{Key: "h2", Fields: []string{"x", "y"}},
		{Key: "empty"},
	})
	wantErr(t, err, domain.ErrWrongType)
	if n != 3 {
		t.Fatalf("HDelBatch = %d, want 3", n)
	}
	if e := must(s.Exists(ctx, "h2"))(t); e != 0 {
		t.Fatal("HDelBatch stopped at the WRONGTYPE")
	}
	if n := must(s.HDelBatch(ctx, nil))(t); n != 0 {
		t.Fatalf("HDelBatch(nil) = %d", n)
	}
	_, err = s.HGetAll(ctx, "str")
	wantErr(t, err, domain.ErrWrongType)
}

func TestSet(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)

	_, err := s.SPop(ctx, "s")
	wantErr(t, err, domain.ErrNotFound)
	if n := must(s.SAdd(ctx, "s", "a", "b", "a"))(t); n != 2 {
		t.Fatalf("SAdd = %d", n)
	}
	if n := must(s.SAdd(ctx, "s"))(t); n != 0 {
		t.Fatalf("SAdd() = %d", n)
	}
	if !must(s.SIsMember(ctx, "s", "a"))(t) || must(s.SIsMember(ctx, "s", "z"))(t) {
		t.Fatal("SIsMember wrong")
	}
	if m := must(s.SRandMember(ctx, "s", 1))(t); len(m) != 1 {
		t.Fatalf("SRandMember 1 = %q", m)
	}
	if m := must(s.SRandMember(ctx, "s", 5))(t); len(m) != 2 {
		t.Fatalf("SRandMember 5 = %q", m)
	}
	if m := must(s.SRandMember(ctx, "s", -5))(t); len(m) != 5 {
		t.Fatalf("SRandMember -5 = %q", m)
	}
	if m := must(s.SRandMember(ctx, "s", 0))(t); m == nil || len(m) != 0 {
		t.Fatalf("SRandMember 0 = %#v", m)
	}
	if m := must(s.SRandMember(ctx, "missing", 3))(t); len(m) != 0 {
		t.Fatalf("SRandMember of a missing set = %q", m)
	}
	members := must(s.SMembers(ctx, "s"))(t)
	slices.Sort(members)
	if !slices.Equal(members, []string{"a", "b"}) {
		t.Fatalf("SMembers = %q", members)
	}
	if n := must(s.SRem(ctx, "s", "a", "z"))(t); n != 1 {
		t.Fatalf("SRem = %d", n)
	}
	if m := must(s.SPop(ctx, "s"))(t); m != "b" {
		t.Fatalf("SPop = %q", m)
	}
	if e := must(s.Exists(ctx, "s"))(t); e != 0 {
		t.Fatal("empty set still exists")
	}
	if err := s.Set(ctx, "str", nil, 0); err != nil {
		t.Fatal(err)
	}
	_, err = s.SAdd(ctx, "str", "a")
	wantErr(t, err, domain.ErrWrongType)
}

func TestList(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t)

	_, err := s.LPop(ctx, "l")
	wantErr(t, err, domain.ErrNotFound)
	_, err = s.RPop(ctx, "l")
	wantErr(t, err, domain.ErrNotFound)
	if n := must(s.LPush(ctx, "l", "a", "b"))(t); n != 2 {
		t.Fatalf("LPush = %d", n)
	}
	if n := must(s.RPush(ctx, "l", "c", "d"))(t); n != 4 {
		t.Fatalf("RPush = %d", n)
	}
	if n := must(s.RPush(ctx, "l"))(t); n != 4 {
		t.Fatalf("RPush() = %d", n)
	}
	if got := must(s.LRange(ctx, "l", 0, -1))(t); !slices.Equal(got, []string{"b", "a", "c", "d"}) {
		t.Fatalf("LRange = %q", got)
	}
	if err := s.LTrim(ctx, "l", 1, 2); err != nil {
		t.Fatal(err)
	}
	if n := must(s.LLen(ctx, "l"))(t); n != 2 {
		t.Fatalf("LLen = %d", n)
	}
	if v := must(s.LPop(ctx, "l"))(t); v != "a" {
		t.Fatalf("LPop = %q", v)
	}
	if v := must(s.RPop(ctx, "l"))(t); v != "c" {
		t.Fatalf("RPop = %q", v)
	}
	if n := must(s.LLen(ctx, "l"))(t); n != 0 {
		t.Fatalf("LLen of a missing list = %d", n)
	}
	if got := must(s.LRange(ctx, "l", 0, -1))(t); got == nil || len(got) != 0 {
		t.Fatalf("LRange of a missing list = %#v", got)
	}
	must(s.SAdd(ctx, "set", "a"))(t)
	_, err = s.LPush(ctx, "set", "a")
	wantErr(t, err, domain.ErrWrongType)
	_, err = s.LPush(ctx, "set")
	wantErr(t, err, domain.ErrWrongType)
}

func TestCanceledAndClosed(t *testing.T) {
	s, _ := newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := s.Get(ctx, "k")
	wantErr(t, err, context.Canceled)
	err = s.Scan(ctx, "*", 0, func([]string) error { return nil })
	wantErr(t, err, context.Canceled)

	_, err = s.Get(context.Background(), "")
	wantErr(t, err, domain.ErrInvalidArgument)

	if err := s.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
	_, err = s.Get(context.Background(), "k")
	wantErr(t, err, domain.ErrClosed)
	wantErr(t, s.Ping(context.Background()), domain.ErrClosed)
	_, err = s.SugLen(context.Background(), "k")
	wantErr(t, err, domain.ErrClosed)

	// A client closed under the store is reported as closed too.
	s2 := redisstore.New(redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"}))
	_ = s2.Client().Close()
	_, err = s2.Get(context.Background(), "k")
	wantErr(t, err, domain.ErrClosed)
}

func TestServerDown(t *testing.T) {
	ctx := context.Background()
	s, srv := newStore(t)
	if err := s.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	_, err := s.Get(ctx, "k")
	wantErr(t, err, domain.ErrUnavailable)
	err = s.Ping(ctx)
	wantErr(t, err, domain.ErrUnavailable)
	if want := fmt.Sprintf("rediscache: ping %s: ", srv.Addr()); len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
		t.Fatalf("Ping error %q does not name the endpoint", err)
	}
	srv.Restart(t)
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("Ping after restart: %v", err)
	}
	_, err = s.Get(ctx, "k")
	wantErr(t, err, domain.ErrNotFound)
}

func TestNotSupported(t *testing.T) {
	s, _ := newStore(t)
	err := s.Client().Do(context.Background(), "FT.SUGLEN", "k").Err()
	if err == nil {
		t.Fatal("FT.SUGLEN without the module succeeded")
	}
	_, err = s.SugLen(context.Background(), "k")
	wantErr(t, err, domain.ErrNotSupported)
}
