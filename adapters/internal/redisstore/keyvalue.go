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
// without a round trip. On a cluster, keys of different hash slots are
// unlinked by one command per slot, in parallel per node; if one of them
// fails, the error comes with the count of the others, whose keys are gone.
func (s *Store) Del(ctx context.Context, keys ...string) (int64, error) {
	if err := s.beginKeys(ctx, "unlink", keys); err != nil {
		return 0, err
	}
	defer s.wroteKeys(keys)
	if len(keys) == 0 {
		return 0, nil
	}
	return s.multiKey(ctx, "unlink", keys)
}

// Exists returns how many of keys exist (EXISTS); a key named twice counts
// twice. No keys returns 0 without a round trip. On a cluster, keys of
// different hash slots are counted by one command per slot, in parallel per
// node.
func (s *Store) Exists(ctx context.Context, keys ...string) (int64, error) {
	if err := s.beginKeys(ctx, "exists", keys); err != nil {
		return 0, err
	}
	if len(keys) == 0 {
		return 0, nil
	}
	n, err := s.multiKey(ctx, "exists", keys)
	if err != nil {
		return 0, err
	}
	return n, nil
}

// multiKey sends the multi-key command name, whose reply is a count, over
// keys: as one command, or split by hash slot on a cluster.
func (s *Store) multiKey(ctx context.Context, name string, keys []string) (int64, error) {
	client := s.client()
	if cc, ok := client.(*redis.ClusterClient); ok && len(keys) > 1 {
		return s.countBySlot(ctx, cc, name, keys)
	}
	return s.count(ctx, client, name, keys)
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
//
// On a cluster it scans every master (never a replica, whose keys are its
// master's) in parallel; fn is called with one node's batch at a time,
// never concurrently. A key whose slot moves to another master during the
// scan may be missed, or reported twice.
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
	client := s.client() // one client for the whole iteration
	if cc, ok := client.(*redis.ClusterClient); ok {
		return s.scanMasters(ctx, cc, pattern, batch, fn)
	}
	return s.scanNode(ctx, client, pattern, batch, fn)
}

// processor is what scanNode needs of a client: a redis.UniversalClient,
// or the *redis.Client of one cluster node.
type processor interface {
	Process(ctx context.Context, cmd redis.Cmder) error
}

// scanNode runs the SCAN cursor loop on the server of client and passes
// each reply's keys to emit. Errors of emit are returned as they are.
func (s *Store) scanNode(ctx context.Context, client processor, pattern string, batch int, emit func([]string) error) error {
	var cursor uint64
	process := client.Process
	for {
		// MATCH is always sent: go-redis' Scan would drop an empty
		// pattern and list every key.
		cmd := redis.NewScanCmd(ctx, process, "scan", cursor, "match", pattern, "count", batch)
		_ = process(ctx, cmd)
		keys, next, err := cmd.Result()
		if err != nil {
			return s.fail(ctx, "scan", pattern, err)
		}
		if len(keys) > 0 {
			if err := emit(keys); err != nil {
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
