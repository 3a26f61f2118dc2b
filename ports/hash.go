package ports

import "context"

// Hash stores fields of byte values under a key (Redis hashes). An empty
// hash does not exist: removing its last field removes the key.
type Hash interface {
	// HSet sets one field, creating the hash if needed.
	HSet(ctx context.Context, key, field string, value []byte) error
	// HGet returns one field, or domain.ErrNotFound when the hash or the
	// field is missing.
	HGet(ctx context.Context, key, field string) ([]byte, error)
	// HExists reports whether the field exists.
	HExists(ctx context.Context, key, field string) (bool, error)
	// HGetAll returns every field; empty for a missing hash.
	HGetAll(ctx context.Context, key string) (map[string][]byte, error)
	// HKeys returns the field names in no particular order; empty for a
	// missing hash.
	HKeys(ctx context.Context, key string) ([]string, error)
	// HDel removes fields and returns how many existed.
	HDel(ctx context.Context, key string, fields ...string) (int64, error)
	// HDelBatch removes every listed field of every listed hash in one
	// round trip (a pipeline), and returns how many fields existed. A
	// WRONGTYPE on one key does not stop the others; the first such error
	// is returned after all deletions ran.
	HDelBatch(ctx context.Context, dels []HashFields) (int64, error)
}

// HashFields names fields of one hash, for Hash.HDelBatch.
type HashFields struct {
	Key    string
	Fields []string
}
