package redisstore

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rediscache/rediscache/domain"
)

// DefaultScanBatch is the SCAN COUNT used when Scan is given a batch of 0.
const DefaultScanBatch = 100

// Get returns the value of key (GET), or an error matching
// domain.ErrNotFound.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	if err := s.beginKey(ctx, "get", key); err != nil {
		return nil, err
	}
	b, err := s.client().Get(ctx, key).Bytes()
	if err != nil {
		return nil, s.fail(ctx, "get", key, err)
	}
	return b, nil
}

// Set stores value under key (SET, with PX in milliseconds when ttl > 0).
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := s.beginKey(ctx, "set", key); err != nil {
		return err
	}
	defer s.wrote(key)
	if err := domain.ValidateTTL(ttl); err != nil {
		return fmt.Errorf("rediscache: set %q: %w", key, err)
	}
	if value == nil {
		value = []byte{}
	}
	var cmd *redis.StatusCmd
	if ttl > 0 {
		cmd = redis.NewStatusCmd(ctx, "set", key, value, "px", ttl.Milliseconds())
	} else {
		cmd = redis.NewStatusCmd(ctx, "set", key, value)
	}
	_ = s.client().Process(ctx, cmd)
	return s.fail(ctx, "set", key, cmd.Err())
}

// Del removes keys (UNLINK) and returns how many existed. No keys returns 0
// without a round trip.
func (s *Store) Del(ctx context.Context, keys ...string) (int64, error) {
	if err := s.beginKeys(ctx, "unlink", keys); err != nil {
		return 0, err
	}
	defer s.wroteKeys(keys)
	if len(keys) == 0 {
		return 0, nil
	}
	n, err := s.client().Unlink(ctx, keys...).Result()
	if err != nil {
		return 0, s.fail(ctx, "unlink", msgKey(keys), err)
	}
	return n, nil
}

// Exists returns how many of keys exist (EXISTS). No keys returns 0 without
// a round trip.
func (s *Store) Exists(ctx context.Context, keys ...string) (int64, error) {
	if err := s.beginKeys(ctx, "exists", keys); err != nil {
		return 0, err
	}
	if len(keys) == 0 {
		return 0, nil
	}
	n, err := s.client().Exists(ctx, keys...).Result()
	if err != nil {
		return 0, s.fail(ctx, "exists", msgKey(keys), err)
	}
	return n, nil
}

// Expire sets the ttl of key (PEXPIRE), or removes it for 0 (PERSIST), and
// reports what Redis reports.
func (s *Store) Expire(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	op := "pexpire"
	if ttl == domain.NoExpiry {
		op = "persist"
	}
	if err := s.beginKey(ctx, op, key); err != nil {
		return false, err
	}
	defer s.wrote(key)
	if err := domain.ValidateTTL(ttl); err != nil {
		return false, fmt.Errorf("rediscache: %s %q: %w", op, key, err)
	}
	var cmd *redis.BoolCmd
	if ttl == domain.NoExpiry {
		cmd = s.client().Persist(ctx, key)
	} else {
		cmd = s.client().PExpire(ctx, key, ttl)
	}
	ok, err := cmd.Result()
	if err != nil {
		return false, s.fail(ctx, op, key, err)
	}
	return ok, nil
}

// TTL returns the remaining lifetime of key (PTTL): 0 for a key without
// expiry, at least a millisecond otherwise, domain.ErrNotFound for a
// missing key.
func (s *Store) TTL(ctx context.Context, key string) (time.Duration, error) {
	if err := s.beginKey(ctx, "pttl", key); err != nil {
		return 0, err
	}
	cmd := redis.NewIntCmd(ctx, "pttl", key)
	_ = s.client().Process(ctx, cmd)
	ms, err := cmd.Result()
	switch {
	case err != nil:
		return 0, s.fail(ctx, "pttl", key, err)
	case ms == -2:
		return 0, wrap("pttl", key, domain.ErrNotFound)
	case ms == -1:
		return domain.NoExpiry, nil
	case ms <= 0:
		// Expiring within the millisecond: still a key with a ttl.
		return time.Millisecond, nil
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// Scan runs a SCAN cursor loop with MATCH pattern COUNT batch (0:
// DefaultScanBatch, 100) and calls fn with each non-empty batch of keys, as
// Redis returns them. It remembers nothing between batches, so its memory
// is one batch whatever the number of keys; the price is SCAN's own
// guarantee: a key present for the whole scan is reported at least once,
// and may be reported again in a later batch when Redis resizes its table
// during the scan. An error from fn stops the scan and is returned as is.
func (s *Store) Scan(ctx context.Context, pattern string, batch int, fn func(keys []string) error) error {
	if err := s.begin(ctx, "scan", pattern); err != nil {
		return err
	}
	switch {
	case batch < 0:
		return fmt.Errorf("rediscache: scan %q: %w: negative batch %d", pattern, domain.ErrInvalidArgument, batch)
	case batch == 0:
		batch = DefaultScanBatch
	}
	if fn == nil {
		return fmt.Errorf("rediscache: scan %q: %w: nil callback", pattern, domain.ErrInvalidArgument)
	}
	var cursor uint64
	client := s.client() // one client for the whole iteration
	for {
		// MATCH is always sent: go-redis' Scan would drop an empty
		// pattern and list every key.
		cmd := redis.NewScanCmd(ctx, client.Process, "scan", cursor, "match", pattern, "count", batch)
		_ = client.Process(ctx, cmd)
		keys, next, err := cmd.Result()
		if err != nil {
			return s.fail(ctx, "scan", pattern, err)
		}
		if len(keys) > 0 {
			if err := fn(keys); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return wrap("scan", pattern, err)
		}
		cursor = next
	}
}
