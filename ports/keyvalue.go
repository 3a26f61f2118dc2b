package ports

import (
	"context"
	"time"
)

// KeyValue stores opaque byte values under string keys (Redis strings).
type KeyValue interface {
	// Get returns the value of key, or domain.ErrNotFound when it is
	// missing or expired.
	Get(ctx context.Context, key string) ([]byte, error)
	// Set stores value under key, replacing any value of any type, with
	// the given ttl (0: no expiry). A nil value stores an empty string.
	Set(ctx context.Context, key string, value []byte, ttl time.Duration) error
	// Del removes keys (Redis UNLINK) and returns how many existed. No keys
	// is a no-op returning 0.
	Del(ctx context.Context, keys ...string) (int64, error)
	// Exists returns how many of keys exist; a key named twice counts twice.
	Exists(ctx context.Context, keys ...string) (int64, error)
	// Expire sets the ttl of an existing key; 0 removes its expiry
	// (PERSIST). It reports whether the key existed (and, for 0, whether it
	// had a ttl to remove, as PERSIST does).
	Expire(ctx context.Context, key string, ttl time.Duration) (bool, error)
	// TTL returns the remaining lifetime of key: 0 for a key without
	// expiry, at least one millisecond otherwise, and domain.ErrNotFound
	// for a missing key.
	TTL(ctx context.Context, key string) (time.Duration, error)
	// Scan calls fn with batches of the keys that match the Redis glob
	// pattern (SCAN MATCH, never KEYS), at most about batch keys a call
	// (0: a default). Its memory is bounded by a batch, whatever the number
	// of keys: it remembers nothing between batches. So, as with Redis
	// SCAN, a key present for the whole scan is reported at least once
	// and may be reported again in a later batch (Redis does when it
	// resizes its table during the scan); keys added or removed during
	// the scan may or may not be reported. fn must therefore tolerate a
	// key it has seen before (deleting is idempotent; a caller that lists
	// de-duplicates). fn may delete the keys it is given. An error from fn
	// stops the scan and is returned as is.
	Scan(ctx context.Context, pattern string, batch int, fn func(keys []string) error) error
}
