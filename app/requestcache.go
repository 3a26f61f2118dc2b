package app

import (
	"context"
	"sync"
)

// requestCache is the request-local read cache carried by a context: the
// counterpart of frappe.local.cache. It holds encoded bytes, never decoded
// values, so no two readers share a mutable Go value; and it copies bytes
// at its boundary, in (put, hput) and out (get, hget), so a caller that
// mutates the slice it passed to SetRaw or got from GetRaw never changes
// what the next read of the request returns.
type requestCache struct {
	mu     sync.Mutex
	values map[string]localValue        // made key -> value or remembered miss
	hashes map[string]map[string][]byte // made hash key -> field -> value
}

type localValue struct {
	data  []byte
	found bool // false: a remembered miss
}

type requestCacheKey struct{}

// WithRequestCache returns a copy of ctx that carries a new, empty
// request-local cache. Start one per request or job; it lives as long as the
// returned context is used. Reads through it are repeatable: a value (or a
// miss) seen once is served locally for the rest of the request, even if
// another process changes it meanwhile. Use the ClientCache for values that
// must follow remote changes.
func WithRequestCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, requestCacheKey{}, &requestCache{
		values: make(map[string]localValue),
		hashes: make(map[string]map[string][]byte),
	})
}

// ClearRequestCache empties the request-local cache carried by ctx, if any
// (Frappe's frappe.local.cache = {}).
func ClearRequestCache(ctx context.Context) {
	if rc := requestCacheFrom(ctx); rc != nil {
		rc.mu.Lock()
		clear(rc.values)
		clear(rc.hashes)
		rc.mu.Unlock()
	}
}

func requestCacheFrom(ctx context.Context) *requestCache {
	rc, _ := ctx.Value(requestCacheKey{}).(*requestCache)
	return rc
}

// All methods accept a nil receiver (no request cache) and do nothing.

// get returns a copy of what is remembered for key.
func (rc *requestCache) get(key string) (localValue, bool) {
	if rc == nil {
		return localValue{}, false
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	v, ok := rc.values[key]
	v.data = clone(v.data)
	return v, ok
}

// put remembers a copy of data for key.
func (rc *requestCache) put(key string, data []byte, found bool) {
	if rc == nil {
		return
	}
	data = clone(data)
	rc.mu.Lock()
	rc.values[key] = localValue{data: data, found: found}
	rc.mu.Unlock()
}

// forget drops keys from the value and the hash caches.
func (rc *requestCache) forget(keys ...string) {
	if rc == nil {
		return
	}
	rc.mu.Lock()
	for _, k := range keys {
		delete(rc.values, k)
		delete(rc.hashes, k)
	}
	rc.mu.Unlock()
}

// hget returns a copy of what is remembered for field of the hash key.
func (rc *requestCache) hget(key, field string) ([]byte, bool) {
	if rc == nil {
		return nil, false
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	v, ok := rc.hashes[key][field]
	return clone(v), ok
}

// hput remembers a copy of data for field of the hash key.
func (rc *requestCache) hput(key, field string, data []byte) {
	if rc == nil {
		return
	}
	data = clone(data)
	rc.mu.Lock()
	h := rc.hashes[key]
	if h == nil {
		h = make(map[string][]byte)
		rc.hashes[key] = h
	}
	h[field] = data
	rc.mu.Unlock()
}

func (rc *requestCache) hforget(key string, fields ...string) {
	if rc == nil {
		return
	}
	rc.mu.Lock()
	for _, f := range fields {
		delete(rc.hashes[key], f)
	}
	rc.mu.Unlock()
}

// clone copies b, keeping nil nil and an empty value empty (an empty
// string stored is a value, not a miss).
func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}
