package clientcache

import (
	"context"

	"github.com/rediscache/rediscache/ports"
)

// Store returns the ClientCache as a ports.Store over full Redis keys, for
// every site: Get is served from local memory when it can; everything else,
// writes included, goes to the backend store, which reports its writes to
// the cache before they return. An app.Cache built on it (Site.Cache) is a
// site-scoped Cache with client-side caching of its values; the conformance
// suite runs on it.
func (c *ClientCache) Store() ports.Store { return portStore{Store: c.store, c: c} }

// portStore is the ClientCache as a ports.Store: the backend store with a
// local Get.
type portStore struct {
	ports.Store
	c *ClientCache
}

var (
	_ ports.Store       = portStore{}
	_ ports.Pinger      = portStore{}
	_ ports.LocalGetter = portStore{}
)

// GetLocal answers a read of key from local memory when it can, counting
// it as a hit (ports.LocalGetter); valuesOnly leaves remembered misses
// unanswered.
func (s portStore) GetLocal(key string, valuesOnly bool) ([]byte, bool, error) {
	if key == "" {
		return nil, false, nil
	}
	e, ok := s.c.lookupHit([]byte(key), valuesOnly)
	switch {
	case !ok:
		return nil, false, nil
	case e.missing:
		return nil, true, errCachedMiss
	}
	return append([]byte(nil), e.raw...), true, nil
}

// Ping checks the backend.
func (s portStore) Ping(ctx context.Context) error {
	if p, ok := s.Store.(ports.Pinger); ok {
		return p.Ping(ctx)
	}
	return ctx.Err()
}

// Get returns the value of key, from local memory when it can. The slice
// is the caller's own.
func (s portStore) Get(ctx context.Context, key string) ([]byte, error) {
	if key == "" {
		return s.Store.Get(ctx, key)
	}
	if data, ok, err := s.GetLocal(key, false); ok {
		return data, err
	}
	if err := ctx.Err(); err != nil {
		s.c.miss(key) // a read all the same: one miss
		return nil, err
	}
	_, raw, err, _ := s.c.read(ctx, key, decodeRaw, nil)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), raw...), nil
}
