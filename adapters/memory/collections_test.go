package memory

import (
	"errors"
	"slices"
	"testing"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

func TestHash(t *testing.T) {
	s := newStore(t, Config{})
	if m, err := s.HGetAll(bg, "h"); err != nil || m == nil || len(m) != 0 {
		t.Fatalf("HGetAll of missing = %v, %v", m, err)
	}
	if k, err := s.HKeys(bg, "h"); err != nil || k == nil || len(k) != 0 {
		t.Fatalf("HKeys of missing = %v, %v", k, err)
	}
	_, err := s.HGet(bg, "h", "f")
	mustIs(t, err, domain.ErrNotFound)

	v := []byte("1")
	must(t, s.HSet(bg, "h", "a", v))
	v[0] = 'X'
	must(t, s.HSet(bg, "h", "b", []byte("2")))
	got, err := s.HGet(bg, "h", "a")
	must(t, err)
	if string(got) != "1" {
		t.Errorf("HGet = %q", got)
	}
	_, err = s.HGet(bg, "h", "zz")
	mustIs(t, err, domain.ErrNotFound)
	if ok, _ := s.HExists(bg, "h", "b"); !ok {
		t.Error("HExists b = false")
	}
	all, _ := s.HGetAll(bg, "h")
	if len(all) != 2 || string(all["b"]) != "2" {
		t.Errorf("HGetAll = %q", all)
	}
	keys, _ := s.HKeys(bg, "h")
	slices.Sort(keys)
	if !slices.Equal(keys, []string{"a", "b"}) {
		t.Errorf("HKeys = %q", keys)
	}
	n, err := s.HDel(bg, "h", "a", "a", "zz")
	must(t, err)
	if n != 1 {
		t.Errorf("HDel = %d", n)
	}
	n, _ = s.HDel(bg, "h", "b")
	if n != 1 {
		t.Errorf("HDel = %d", n)
	}
	if n, _ := s.Exists(bg, "h"); n != 0 {
		t.Error("emptied hash still exists")
	}

	must(t, s.Set(bg, "str", []byte("v"), 0))
	for _, err := range []error{
		s.HSet(bg, "str", "f", nil),
		func() error { _, err := s.HGet(bg, "str", "f"); return err }(),
		func() error { _, err := s.HExists(bg, "str", "f"); return err }(),
		func() error { _, err := s.HGetAll(bg, "str"); return err }(),
		func() error { _, err := s.HKeys(bg, "str"); return err }(),
		func() error { _, err := s.HDel(bg, "str", "f"); return err }(),
	} {
		mustIs(t, err, domain.ErrWrongType)
	}
}

func TestHDelBatch(t *testing.T) {
	s := newStore(t, Config{})
	must(t, s.HSet(bg, "h1", "a", nil))
	must(t, s.HSet(bg, "h1", "b", nil))
	must(t, s.HSet(bg, "h2", "a", nil))
	must(t, s.Set(bg, "str", nil, 0))
	must(t, s.Set(bg, "str2", nil, 0))
	n, err := s.HDelBatch(bg, []ports.HashFields{
		{Key: "h1", Fields: []string{"a", "zz"}},
		{Key: "str", Fields: []string{"a"}},
		{Key: "h2", Fields: []string{"a"}},
		{Key: "str2", Fields: []string{"a"}},
		{Key: "missing", Fields: []string{"a"}},
	})
	if n != 2 || !errors.Is(err, domain.ErrWrongType) {
		t.Fatalf("HDelBatch = %d, %v", n, err)
	}
	if want := `hdel "str": `; err.Error()[:len(want)] != want {
		t.Errorf("first error should be reported: %v", err)
	}
	if k, _ := s.HKeys(bg, "h1"); !slices.Equal(k, []string{"b"}) {
		t.Errorf("h1 = %q", k)
	}
	if n, _ := s.Exists(bg, "h2"); n != 0 {
		t.Error("emptied h2 exists")
	}
}

func TestSet(t *testing.T) {
	s := newStore(t, Config{})
	if m, err := s.SMembers(bg, "s"); err != nil || m == nil || len(m) != 0 {
		t.Fatalf("SMembers of missing = %v, %v", m, err)
	}
	_, err := s.SPop(bg, "s")
	mustIs(t, err, domain.ErrNotFound)
	if r, err := s.SRandMember(bg, "s", 3); err != nil || r == nil || len(r) != 0 {
		t.Fatalf("SRandMember of missing = %v, %v", r, err)
	}

	n, err := s.SAdd(bg, "s", "a", "b", "a")
	must(t, err)
	if n != 2 {
		t.Errorf("SAdd = %d", n)
	}
	if n, _ := s.SAdd(bg, "s", "a", "c"); n != 1 {
		t.Errorf("SAdd = %d", n)
	}
	if ok, _ := s.SIsMember(bg, "s", "c"); !ok {
		t.Error("SIsMember c = false")
	}
	if ok, _ := s.SIsMember(bg, "s", "z"); ok {
		t.Error("SIsMember z = true")
	}
	m, _ := s.SMembers(bg, "s")
	slices.Sort(m)
	if !slices.Equal(m, []string{"a", "b", "c"}) {
		t.Errorf("SMembers = %q", m)
	}

	for _, tc := range []struct{ count, want int }{{0, 0}, {2, 2}, {3, 3}, {10, 3}, {-2, 2}, {-10, 10}} {
		r, err := s.SRandMember(bg, "s", tc.count)
		must(t, err)
		if len(r) != tc.want {
			t.Errorf("SRandMember(%d) = %q", tc.count, r)
		}
		if tc.count > 0 {
			u := slices.Clone(r)
			slices.Sort(u)
			if len(slices.Compact(u)) != len(r) {
				t.Errorf("SRandMember(%d) repeats: %q", tc.count, r)
			}
		}
		for _, x := range r {
			if !slices.Contains(m, x) {
				t.Errorf("SRandMember returned %q", x)
			}
		}
	}

	if n, _ := s.SRem(bg, "s", "a", "a", "z"); n != 1 {
		t.Errorf("SRem = %d", n)
	}
	p1, _ := s.SPop(bg, "s")
	p2, _ := s.SPop(bg, "s")
	got := []string{p1, p2}
	slices.Sort(got)
	if !slices.Equal(got, []string{"b", "c"}) {
		t.Errorf("SPop gave %q", got)
	}
	if n, _ := s.Exists(bg, "s"); n != 0 {
		t.Error("emptied set exists")
	}
	_, err = s.SPop(bg, "s")
	mustIs(t, err, domain.ErrNotFound)

	must(t, s.Set(bg, "str", nil, 0))
	for _, err := range []error{
		func() error { _, err := s.SAdd(bg, "str", "m"); return err }(),
		func() error { _, err := s.SRem(bg, "str", "m"); return err }(),
		func() error { _, err := s.SIsMember(bg, "str", "m"); return err }(),
		func() error { _, err := s.SPop(bg, "str"); return err }(),
		func() error { _, err := s.SRandMember(bg, "str", 1); return err }(),
		func() error { _, err := s.SMembers(bg, "str"); return err }(),
	} {
		mustIs(t, err, domain.ErrWrongType)
	}
}

func TestList(t *testing.T) {
	s := newStore(t, Config{})
	_, err := s.LPop(bg, "l")
	mustIs(t, err, domain.ErrNotFound)
	_, err = s.RPop(bg, "l")
	mustIs(t, err, domain.ErrNotFound)
	if r, err := s.LRange(bg, "l", 0, -1); err != nil || r == nil || len(r) != 0 {
		t.Fatalf("LRange of missing = %v, %v", r, err)
	}
	must(t, s.LTrim(bg, "l", 0, 1))

	n, err := s.LPush(bg, "l", "a", "b", "c")
	must(t, err)
	if n != 3 {
		t.Errorf("LPush = %d", n)
	}
	n, _ = s.RPush(bg, "l", "d", "e")
	if n != 5 {
		t.Errorf("RPush = %d", n)
	}
	all, _ := s.LRange(bg, "l", 0, -1)
	if !slices.Equal(all, []string{"c", "b", "a", "d", "e"}) {
		t.Fatalf("list = %q", all)
	}
	if n, _ := s.LLen(bg, "l"); n != 5 {
		t.Errorf("LLen = %d", n)
	}
	if v, _ := s.LPop(bg, "l"); v != "c" {
		t.Errorf("LPop = %q", v)
	}
	if v, _ := s.RPop(bg, "l"); v != "e" {
		t.Errorf("RPop = %q", v)
	}
	// b a d
	must(t, s.LTrim(bg, "l", 5, 10))
	if n, _ := s.Exists(bg, "l"); n != 0 {
		t.Error("LTrim to empty kept the key")
	}
	_, _ = s.RPush(bg, "l", "x")
	_, _ = s.LPop(bg, "l")
	if n, _ := s.Exists(bg, "l"); n != 0 {
		t.Error("popping the last element kept the key")
	}

	must(t, s.Set(bg, "str", nil, 0))
	for _, err := range []error{
		func() error { _, err := s.LPush(bg, "str", "v"); return err }(),
		func() error { _, err := s.RPush(bg, "str", "v"); return err }(),
		func() error { _, err := s.LPop(bg, "str"); return err }(),
		func() error { _, err := s.RPop(bg, "str"); return err }(),
		func() error { _, err := s.LLen(bg, "str"); return err }(),
		func() error { _, err := s.LRange(bg, "str", 0, 1); return err }(),
		s.LTrim(bg, "str", 0, 1),
	} {
		mustIs(t, err, domain.ErrWrongType)
	}
}

// TestListIndexes checks LRANGE and LTRIM index rules on a 5-element list;
// the expectations are Redis 7.0's replies.
func TestListIndexes(t *testing.T) {
	s := newStore(t, Config{})
	base := []string{"a", "b", "c", "d", "e"}
	tests := []struct {
		start, stop int64
		want        []string
	}{
		{0, -1, base},
		{0, 0, base[:1]},
		{1, 3, base[1:4]},
		{-2, -1, base[3:]},
		{-100, 100, base},
		{-100, -4, base[:2]},
		{3, 1, nil},
		{5, 10, nil},
		{4, 4, base[4:]},
		{-1, -2, nil},
		{0, -6, nil},
		{-6, 0, base[:1]},
		{2, -3, base[2:3]},
		{9223372036854775807, -9223372036854775808, nil},
		{-9223372036854775808, 9223372036854775807, base},
	}
	for _, tt := range tests {
		must(t, s.Set(bg, "l", nil, 0))
		_, _ = s.Del(bg, "l")
		_, _ = s.RPush(bg, "l", base...)
		got, err := s.LRange(bg, "l", tt.start, tt.stop)
		must(t, err)
		if !slices.Equal(got, tt.want) {
			t.Errorf("LRANGE %d %d = %q, want %q", tt.start, tt.stop, got, tt.want)
		}
		must(t, s.LTrim(bg, "l", tt.start, tt.stop))
		got, _ = s.LRange(bg, "l", 0, -1)
		if !slices.Equal(got, tt.want) {
			t.Errorf("LTRIM %d %d left %q, want %q", tt.start, tt.stop, got, tt.want)
		}
		if n, _ := s.Exists(bg, "l"); (n == 1) != (len(tt.want) > 0) {
			t.Errorf("LTRIM %d %d: exists = %d", tt.start, tt.stop, n)
		}
	}
}
