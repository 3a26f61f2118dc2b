package memory

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/rediscache/rediscache/domain"
)

// set returns the live set under key, nil when the key is missing, or a
// WRONGTYPE error.
func (t *tx) set(op, key string) (setValue, error) {
	e := t.get(key)
	if e == nil {
		return nil, nil
	}
	m, ok := e.value.(setValue)
	if !ok {
		return nil, errWrongType(op, key)
	}
	return m, nil
}

// SAdd adds members to the set under key, creating it if needed, and
// returns how many were new. No members is a no-op returning 0, whatever
// the key holds (the Redis adapters send nothing then).
func (s *Store) SAdd(ctx context.Context, key string, members ...string) (int64, error) {
	t, err := s.begin(ctx, "sadd", key)
	if err != nil {
		return 0, err
	}
	defer t.end()
	if len(members) == 0 {
		return 0, nil
	}
	m, err := t.set("sadd", key)
	if err != nil {
		return 0, err
	}
	if m == nil {
		m = make(setValue, len(members))
		t.put(key, m)
	}
	var n int64
	for _, v := range members {
		if _, ok := m[v]; !ok {
			m[v] = struct{}{}
			n++
		}
	}
	if n > 0 {
		t.touch(key)
	}
	return n, nil
}

// SRem removes members and returns how many were present; removing the last
// member removes the key. No members is a no-op returning 0, whatever the
// key holds (the Redis adapters send nothing then).
func (s *Store) SRem(ctx context.Context, key string, members ...string) (int64, error) {
	t, err := s.begin(ctx, "srem", key)
	if err != nil {
		return 0, err
	}
	defer t.end()
	if len(members) == 0 {
		return 0, nil
	}
	m, err := t.set("srem", key)
	if err != nil || m == nil {
		return 0, err
	}
	var n int64
	for _, v := range members {
		if _, ok := m[v]; ok {
			delete(m, v)
			n++
		}
	}
	if n > 0 {
		if len(m) == 0 {
			t.del(key)
		}
		t.touch(key)
	}
	return n, nil
}

// SIsMember reports whether member is in the set under key.
func (s *Store) SIsMember(ctx context.Context, key, member string) (bool, error) {
	t, err := s.begin(ctx, "sismember", key)
	if err != nil {
		return false, err
	}
	defer t.end()
	m, err := t.set("sismember", key)
	if err != nil {
		return false, err
	}
	_, ok := m[member]
	return ok, nil
}

// SPop removes and returns a random member, or an error matching
// domain.ErrNotFound for a missing set. Removing the last member removes the
// key.
func (s *Store) SPop(ctx context.Context, key string) (string, error) {
	t, err := s.begin(ctx, "spop", key)
	if err != nil {
		return "", err
	}
	defer t.end()
	m, err := t.set("spop", key)
	if err != nil {
		return "", err
	}
	if len(m) == 0 {
		return "", errNotFound("spop", key)
	}
	v := members(m)[rand.IntN(len(m))]
	delete(m, v)
	if len(m) == 0 {
		t.del(key)
	}
	t.touch(key)
	return v, nil
}

// SRandMember returns random members without removing them: with count > 0
// up to count distinct members, with count < 0 exactly -count members that
// may repeat, with count 0 none. A missing set gives an empty non-nil
// slice.
func (s *Store) SRandMember(ctx context.Context, key string, count int) ([]string, error) {
	t, err := s.begin(ctx, "srandmember", key)
	if err != nil {
		return nil, err
	}
	defer t.end()
	if count < -domain.MaxRandCount || count > domain.MaxRandCount {
		// A reply that large would exhaust memory (Redis blocks building it).
		return nil, fmt.Errorf("srandmember %q: %w: count %d out of range", key, domain.ErrInvalidArgument, count)
	}
	m, err := t.set("srandmember", key)
	if err != nil {
		return nil, err
	}
	if count == 0 || len(m) == 0 {
		return []string{}, nil
	}
	all := members(m)
	if count < 0 {
		out := make([]string, -count)
		for i := range out {
			out[i] = all[rand.IntN(len(all))]
		}
		return out, nil
	}
	rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	return all[:min(count, len(all))], nil
}

// SMembers returns every member in no particular order; an empty non-nil
// slice for a missing set.
func (s *Store) SMembers(ctx context.Context, key string) ([]string, error) {
	t, err := s.begin(ctx, "smembers", key)
	if err != nil {
		return nil, err
	}
	defer t.end()
	m, err := t.set("smembers", key)
	if err != nil {
		return nil, err
	}
	return members(m), nil
}

// members lists the members of m.
func members(m setValue) []string {
	out := make([]string, 0, len(m))
	for v := range m {
		out = append(out, v)
	}
	return out
}
