package memory

import (
	"context"
	"fmt"
	"slices"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// hash returns the live hash under key, nil when the key is missing, or a
// WRONGTYPE error.
func (t *tx) hash(op, key string) (hashValue, *entry, error) {
	e := t.get(key)
	if e == nil {
		return nil, nil, nil
	}
	h, ok := e.value.(hashValue)
	if !ok {
		return nil, nil, errWrongType(op, key)
	}
	return h, e, nil
}

// HSet sets field of the hash under key to a copy of value, creating the
// hash if needed. Like Redis, it reports a change even when the value is the
// same.
func (s *Store) HSet(ctx context.Context, key, field string, value []byte) error {
	t, err := s.begin(ctx, "hset", key)
	if err != nil {
		return err
	}
	defer t.end()
	h, _, err := t.hash("hset", key)
	if err != nil {
		return err
	}
	if h == nil {
		h = make(hashValue)
		t.put(key, h)
	}
	v := make([]byte, len(value))
	copy(v, value)
	h[field] = v
	t.touch(key)
	return nil
}

// HGet returns a copy of field, or an error matching domain.ErrNotFound when
// the hash or the field is missing.
func (s *Store) HGet(ctx context.Context, key, field string) ([]byte, error) {
	t, err := s.begin(ctx, "hget", key)
	if err != nil {
		return nil, err
	}
	defer t.end()
	h, _, err := t.hash("hget", key)
	if err != nil {
		return nil, err
	}
	v, ok := h[field]
	if !ok {
		return nil, fmt.Errorf("hget %q %q: %w", key, field, domain.ErrNotFound)
	}
	return slices.Clone(v), nil
}

// HExists reports whether field exists in the hash under key.
func (s *Store) HExists(ctx context.Context, key, field string) (bool, error) {
	t, err := s.begin(ctx, "hexists", key)
	if err != nil {
		return false, err
	}
	defer t.end()
	h, _, err := t.hash("hexists", key)
	if err != nil {
		return false, err
	}
	_, ok := h[field]
	return ok, nil
}

// HGetAll returns a copy of every field; an empty non-nil map for a missing
// hash.
func (s *Store) HGetAll(ctx context.Context, key string) (map[string][]byte, error) {
	t, err := s.begin(ctx, "hgetall", key)
	if err != nil {
		return nil, err
	}
	defer t.end()
	h, _, err := t.hash("hgetall", key)
	if err != nil {
		return nil, err
	}
	out := make(map[string][]byte, len(h))
	for f, v := range h {
		out[f] = slices.Clone(v)
	}
	return out, nil
}

// HKeys returns the field names in no particular order; an empty non-nil
// slice for a missing hash.
func (s *Store) HKeys(ctx context.Context, key string) ([]string, error) {
	t, err := s.begin(ctx, "hkeys", key)
	if err != nil {
		return nil, err
	}
	defer t.end()
	h, _, err := t.hash("hkeys", key)
	if err != nil {
		return nil, err
	}
	out := make([]string, 0, len(h))
	for f := range h {
		out = append(out, f)
	}
	return out, nil
}

// HDel removes fields and returns how many existed; removing the last field
// removes the key. No fields is a no-op returning 0, whatever the key holds
// (the Redis adapters send nothing then, as HDelBatch skips such entries).
func (s *Store) HDel(ctx context.Context, key string, fields ...string) (int64, error) {
	t, err := s.begin(ctx, "hdel", key)
	if err != nil {
		return 0, err
	}
	defer t.end()
	if len(fields) == 0 {
		return 0, nil
	}
	return t.hdel(key, fields)
}

// hdel is HDel under the lock.
func (t *tx) hdel(key string, fields []string) (int64, error) {
	h, _, err := t.hash("hdel", key)
	if err != nil || h == nil {
		return 0, err
	}
	var n int64
	for _, f := range fields {
		if _, ok := h[f]; ok {
			delete(h, f)
			n++
		}
	}
	if n > 0 {
		if len(h) == 0 {
			t.del(key)
		}
		t.touch(key)
	}
	return n, nil
}

// HDelBatch removes every listed field of every listed hash, atomically, and
// returns how many fields existed. A WRONGTYPE on one key does not stop the
// others; the first such error is returned after all deletions ran. An empty
// key fails the whole batch with domain.ErrInvalidArgument before anything
// is deleted.
func (s *Store) HDelBatch(ctx context.Context, dels []ports.HashFields) (int64, error) {
	keys := make([]string, len(dels))
	for i, d := range dels {
		keys[i] = d.Key
	}
	t, err := s.begin(ctx, "hdel", keys...)
	if err != nil {
		return 0, err
	}
	defer t.end()
	var total int64
	var first error
	for _, d := range dels {
		if len(d.Fields) == 0 {
			continue
		}
		n, err := t.hdel(d.Key, d.Fields)
		total += n
		if err != nil && first == nil {
			first = err
		}
	}
	return total, first
}
