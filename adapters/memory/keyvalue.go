package memory

import (
	"context"
	"fmt"
	"iter"
	"maps"
	"slices"
	"time"

	"github.com/rediscache/rediscache/domain"
)

// defaultScanBatch is the batch size of Scan when the caller passes 0.
const defaultScanBatch = 100

// scanStep is how many keys one step of Scan visits under the DB lock, at
// most: it bounds how long a scan for a rare pattern holds the lock.
const scanStep = 1024

// Get returns a copy of the string stored under key, or an error matching
// domain.ErrNotFound when the key is missing or expired.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) {
	t, err := s.begin(ctx, "get", key)
	if err != nil {
		return nil, err
	}
	defer t.end()
	e := t.get(key)
	if e == nil {
		return nil, errNotFound("get", key)
	}
	b, ok := e.value.([]byte)
	if !ok {
		return nil, errWrongType("get", key)
	}
	return slices.Clone(b), nil
}

// Set stores a copy of value under key, replacing any value of any type.
// ttl 0 (domain.NoExpiry) makes the key persistent, removing any previous
// ttl; a positive ttl is truncated to whole milliseconds, as Redis' PX; a
// negative one (or one below a millisecond) is rejected with
// domain.ErrInvalidArgument.
func (s *Store) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	t, err := s.begin(ctx, "set", key)
	if err != nil {
		return err
	}
	defer t.end()
	if err := domain.ValidateTTL(ttl); err != nil {
		return fmt.Errorf("set %q: %w", key, err)
	}
	t.get(key) // a key that expired is reported as such first
	v := make([]byte, len(value))
	copy(v, value)
	e := t.put(key, v)
	if ttl > 0 {
		t.setExpiry(key, e, t.now.Add(ttl.Truncate(time.Millisecond)))
	}
	t.touch(key)
	return nil
}

// Del removes keys of any type (Redis UNLINK) and returns how many existed.
func (s *Store) Del(ctx context.Context, keys ...string) (int64, error) {
	t, err := s.begin(ctx, "del", keys...)
	if err != nil {
		return 0, err
	}
	defer t.end()
	var n int64
	for _, k := range keys {
		if t.get(k) != nil {
			t.del(k)
			t.touch(k)
			n++
		}
	}
	return n, nil
}

// Exists returns how many of keys exist; a key named twice counts twice.
func (s *Store) Exists(ctx context.Context, keys ...string) (int64, error) {
	t, err := s.begin(ctx, "exists", keys...)
	if err != nil {
		return 0, err
	}
	defer t.end()
	var n int64
	for _, k := range keys {
		if t.get(k) != nil {
			n++
		}
	}
	return n, nil
}

// Expire sets the ttl of an existing key of any type (truncated to whole
// milliseconds) and reports whether it existed. ttl 0 removes the expiry
// (Redis PERSIST) and reports whether there was one to remove. A negative
// ttl is rejected with domain.ErrInvalidArgument.
func (s *Store) Expire(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	t, err := s.begin(ctx, "expire", key)
	if err != nil {
		return false, err
	}
	defer t.end()
	if err := domain.ValidateTTL(ttl); err != nil {
		return false, fmt.Errorf("expire %q: %w", key, err)
	}
	e := t.get(key)
	if e == nil {
		return false, nil
	}
	if ttl == 0 {
		if e.expireAt.IsZero() {
			return false, nil
		}
		t.setExpiry(key, e, time.Time{})
	} else {
		t.setExpiry(key, e, t.now.Add(ttl.Truncate(time.Millisecond)))
	}
	t.touch(key)
	return true, nil
}

// TTL returns the remaining lifetime of key rounded up to the millisecond
// (so a live key never reports less than one millisecond), 0 for a key
// without expiry, and an error matching domain.ErrNotFound for a missing
// key.
func (s *Store) TTL(ctx context.Context, key string) (time.Duration, error) {
	t, err := s.begin(ctx, "ttl", key)
	if err != nil {
		return 0, err
	}
	defer t.end()
	e := t.get(key)
	if e == nil {
		return 0, errNotFound("ttl", key)
	}
	if e.expireAt.IsZero() {
		return 0, nil
	}
	left := e.expireAt.Sub(t.now)
	ms := (left + time.Millisecond - 1) / time.Millisecond
	return ms * time.Millisecond, nil
}

// Scan calls fn with batches of at most batch (0: 100) of the live keys that
// match the Redis glob pattern (see SCAN MATCH); an empty pattern matches
// no key, as SCAN MATCH "" does (keys are never empty). Like Redis' SCAN
// cursor it walks the keyspace in steps, remembering only its position, so
// its memory is one batch whatever the number of keys: each step takes the
// DB lock, visits at most scanStep keys (in no particular order) and
// releases it; fn runs without the lock, so it may use the store, and
// delete the keys it is given. A key present for the whole scan is
// reported exactly once (Go's map iteration guarantees it, modifications
// between steps included); keys added or removed during the scan may or may
// not be, and a FlushAll ends the scan. An error from fn stops the scan
// and is returned as is; so does the end of ctx between batches. A negative
// batch or a nil fn is rejected with domain.ErrInvalidArgument.
func (s *Store) Scan(ctx context.Context, pattern string, batch int, fn func(keys []string) error) error {
	t, err := s.begin(ctx, "scan")
	if err != nil {
		return err
	}
	if batch < 0 {
		t.end()
		return fmt.Errorf("scan: %w: negative batch %d", domain.ErrInvalidArgument, batch)
	}
	if fn == nil {
		t.end()
		return fmt.Errorf("scan: %w: nil callback", domain.ErrInvalidArgument)
	}
	if batch == 0 {
		batch = defaultScanBatch
	}
	// The cursor is an iterator over the map, advanced only under the
	// lock; it is paused (not running) while the lock is released.
	next, stop := iter.Pull(maps.Keys(t.db.keys))
	defer stop()
	gen := t.db.keysGen
	all := pattern == "*"
	keys := make([]string, 0, batch)
	for {
		done := false
		for range scanStep {
			k, ok := next()
			if !ok || t.db.keysGen != gen {
				done = true
				break
			}
			if t.get(k) != nil && (all || domain.MatchGlob(pattern, k)) {
				keys = append(keys, k)
				if len(keys) == batch {
					break
				}
			}
		}
		t.end()
		if len(keys) == batch || (done && len(keys) > 0) {
			if err := fn(keys); err != nil {
				return err
			}
			keys = make([]string, 0, batch) // fn may keep the slice it got
		}
		if done {
			return nil
		}
		if t, err = s.begin(ctx, "scan"); err != nil {
			return err
		}
	}
}
