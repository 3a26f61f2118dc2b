package redisstore

import (
	"context"
	"fmt"

	"github.com/rediscache/rediscache/domain"
)

// SAdd adds members (SADD) and returns how many were new. No members
// returns 0 without a round trip.
func (s *Store) SAdd(ctx context.Context, key string, members ...string) (int64, error) {
	if err := s.beginKey(ctx, "sadd", key); err != nil {
		return 0, err
	}
	defer s.wrote(key)
	if len(members) == 0 {
		return 0, nil
	}
	n, err := s.client().SAdd(ctx, key, toAny(members)...).Result()
	if err != nil {
		return 0, s.fail(ctx, "sadd", key, err)
	}
	return n, nil
}

// SRem removes members (SREM) and returns how many were present. No
// members returns 0 without a round trip.
func (s *Store) SRem(ctx context.Context, key string, members ...string) (int64, error) {
	if err := s.beginKey(ctx, "srem", key); err != nil {
		return 0, err
	}
	defer s.wrote(key)
	if len(members) == 0 {
		return 0, nil
	}
	n, err := s.client().SRem(ctx, key, toAny(members)...).Result()
	if err != nil {
		return 0, s.fail(ctx, "srem", key, err)
	}
	return n, nil
}

// SIsMember reports whether member is in the set (SISMEMBER).
func (s *Store) SIsMember(ctx context.Context, key, member string) (bool, error) {
	if err := s.beginKey(ctx, "sismember", key); err != nil {
		return false, err
	}
	ok, err := s.client().SIsMember(ctx, key, member).Result()
	if err != nil {
		return false, s.fail(ctx, "sismember", key, err)
	}
	return ok, nil
}

// SPop removes and returns a random member (SPOP), or an error matching
// domain.ErrNotFound for an empty set.
func (s *Store) SPop(ctx context.Context, key string) (string, error) {
	if err := s.beginKey(ctx, "spop", key); err != nil {
		return "", err
	}
	defer s.wrote(key)
	m, err := s.client().SPop(ctx, key).Result()
	if err != nil {
		return "", s.fail(ctx, "spop", key, err)
	}
	return m, nil
}

// SRandMember returns random members (SRANDMEMBER key count, the count
// always sent) with Redis' semantics for the sign of count. Count 0 is sent
// too, so a key of another type still fails as Redis has it. math.MinInt,
// which Redis refuses ("value is out of range"), fails with
// domain.ErrInvalidArgument, as in the memory adapter.
func (s *Store) SRandMember(ctx context.Context, key string, count int) ([]string, error) {
	if err := s.beginKey(ctx, "srandmember", key); err != nil {
		return nil, err
	}
	if count < -domain.MaxRandCount || count > domain.MaxRandCount {
		return nil, fmt.Errorf("%s: %w: count %d out of range", prefix("srandmember", key), domain.ErrInvalidArgument, count)
	}
	members, err := s.client().SRandMemberN(ctx, key, int64(count)).Result()
	if err != nil {
		return nil, s.fail(ctx, "srandmember", key, err)
	}
	return nonNil(members), nil
}

// SMembers returns every member (SMEMBERS); empty for a missing set.
func (s *Store) SMembers(ctx context.Context, key string) ([]string, error) {
	if err := s.beginKey(ctx, "smembers", key); err != nil {
		return nil, err
	}
	members, err := s.client().SMembers(ctx, key).Result()
	if err != nil {
		return nil, s.fail(ctx, "smembers", key, err)
	}
	return nonNil(members), nil
}

// toAny converts strings to the []any that go-redis' variadic commands
// take.
func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
