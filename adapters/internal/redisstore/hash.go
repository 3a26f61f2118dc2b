package redisstore

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// HSet sets one field of the hash at key (HSET).
func (s *Store) HSet(ctx context.Context, key, field string, value []byte) error {
	if err := s.beginKey(ctx, "hset", key); err != nil {
		return err
	}
	defer s.wrote(key)
	if value == nil {
		value = []byte{}
	}
	return s.fail(ctx, "hset", key, s.client().HSet(ctx, key, field, value).Err())
}

// HGet returns one field (HGET), or an error matching domain.ErrNotFound.
func (s *Store) HGet(ctx context.Context, key, field string) ([]byte, error) {
	if err := s.beginKey(ctx, "hget", key); err != nil {
		return nil, err
	}
	b, err := s.client().HGet(ctx, key, field).Bytes()
	if err != nil {
		return nil, s.fail(ctx, "hget", key, err)
	}
	return b, nil
}

// HExists reports whether the field exists (HEXISTS).
func (s *Store) HExists(ctx context.Context, key, field string) (bool, error) {
	if err := s.beginKey(ctx, "hexists", key); err != nil {
		return false, err
	}
	ok, err := s.client().HExists(ctx, key, field).Result()
	if err != nil {
		return false, s.fail(ctx, "hexists", key, err)
	}
	return ok, nil
}

// HGetAll returns every field (HGETALL); empty for a missing hash.
func (s *Store) HGetAll(ctx context.Context, key string) (map[string][]byte, error) {
	if err := s.beginKey(ctx, "hgetall", key); err != nil {
		return nil, err
	}
	m, err := s.client().HGetAll(ctx, key).Result()
	if err != nil {
		return nil, s.fail(ctx, "hgetall", key, err)
	}
	out := make(map[string][]byte, len(m))
	for f, v := range m {
		out[f] = []byte(v)
	}
	return out, nil
}

// HKeys returns the field names (HKEYS); empty for a missing hash.
func (s *Store) HKeys(ctx context.Context, key string) ([]string, error) {
	if err := s.beginKey(ctx, "hkeys", key); err != nil {
		return nil, err
	}
	fields, err := s.client().HKeys(ctx, key).Result()
	if err != nil {
		return nil, s.fail(ctx, "hkeys", key, err)
	}
	return nonNil(fields), nil
}

// HDel removes fields (HDEL) and returns how many existed. No fields
// returns 0 without a round trip.
func (s *Store) HDel(ctx context.Context, key string, fields ...string) (int64, error) {
	if err := s.beginKey(ctx, "hdel", key); err != nil {
		return 0, err
	}
	defer s.wrote(key)
	if len(fields) == 0 {
		return 0, nil
	}
	n, err := s.client().HDel(ctx, key, fields...).Result()
	if err != nil {
		return 0, s.fail(ctx, "hdel", key, err)
	}
	return n, nil
}

// HDelBatch sends one HDEL per entry with fields in one non-transactional
// pipeline and returns how many fields existed. Every command runs; the
// first error (a WRONGTYPE, say) is returned with the count of the others.
func (s *Store) HDelBatch(ctx context.Context, dels []ports.HashFields) (int64, error) {
	for _, d := range dels {
		if d.Key == "" {
			return 0, fmt.Errorf("rediscache: hdel: %w: empty key", domain.ErrInvalidArgument)
		}
	}
	if err := s.begin(ctx, "hdel", ""); err != nil {
		return 0, err
	}
	pipe := s.client().Pipeline()
	cmds := make([]*redis.IntCmd, 0, len(dels))
	keys := make([]string, 0, len(dels))
	for _, d := range dels {
		if len(d.Fields) == 0 {
			continue
		}
		cmds = append(cmds, pipe.HDel(ctx, d.Key, d.Fields...))
		keys = append(keys, d.Key)
	}
	if len(cmds) == 0 {
		return 0, nil
	}
	defer s.wroteKeys(keys)
	// Exec's error is the first command's error; each command is examined
	// below instead.
	_, _ = pipe.Exec(ctx)
	var (
		total    int64
		firstErr error
	)
	for i, cmd := range cmds {
		n, err := cmd.Result()
		if err != nil {
			if firstErr == nil {
				firstErr = s.fail(ctx, "hdel", keys[i], err)
			}
			continue
		}
		total += n
	}
	return total, firstErr
}

// nonNil returns s, or an empty slice when s is nil, so that empty results
// look the same whatever go-redis returns.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
