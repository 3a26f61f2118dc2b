package clientcache

import (
	"context"
	"time"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// Store returns the ClientCache as a ports.Store over full Redis keys: Get is
// served from local memory when it can, every write drops the local copy of
// its key (and Set keeps the new value, tracked), everything else goes to the
// backend. An app.Cache built on it is a site-scoped Cache with client-side
// caching of its values; the conformance suite runs on it.
func (c *ClientCache) Store() ports.Store { return (*portStore)(c) }

type portStore ClientCache

var (
	_ ports.Store  = (*portStore)(nil)
	_ ports.Pinger = (*portStore)(nil)
)

func (s *portStore) cc() *ClientCache  { return (*ClientCache)(s) }
func (s *portStore) next() ports.Store { return s.store }

// drop removes local copies of keys before and after a write, so that a
// fetch racing the write cannot keep the old value.
func (s *portStore) drop(keys ...string) func() {
	for _, k := range keys {
		s.local.remove(k)
	}
	return func() {
		for _, k := range keys {
			s.local.remove(k)
		}
	}
}

func (s *portStore) Ping(ctx context.Context) error { return s.cache.Ping(ctx) }

func (s *portStore) Get(ctx context.Context, key string) ([]byte, error) {
	c := s.cc()
	if !c.healthy.Load() || key == "" {
		return s.next().Get(ctx, key)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	_, raw, err := c.getMade(ctx, key, decodeRaw, nil, func() (any, []byte, error) {
		raw, err := s.next().Get(ctx, key)
		return raw, raw, err
	})
	if err != nil {
		return nil, err
	}
	return append([]byte{}, raw...), nil // the local copy is shared
}

func (s *portStore) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	defer s.drop(key)()
	return s.next().Set(ctx, key, value, ttl)
}

func (s *portStore) Del(ctx context.Context, keys ...string) (int64, error) {
	defer s.drop(keys...)()
	return s.next().Del(ctx, keys...)
}

func (s *portStore) Exists(ctx context.Context, keys ...string) (int64, error) {
	return s.next().Exists(ctx, keys...)
}

func (s *portStore) Expire(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	defer s.drop(key)()
	return s.next().Expire(ctx, key, ttl)
}

func (s *portStore) TTL(ctx context.Context, key string) (time.Duration, error) {
	return s.next().TTL(ctx, key)
}

func (s *portStore) Scan(ctx context.Context, pattern string, batch int, fn func([]string) error) error {
	return s.next().Scan(ctx, pattern, batch, fn)
}

// Hash, set, list and suggestion writes change the key's type or content,
// so they drop any local copy of the key; reads go to the backend.

func (s *portStore) HSet(ctx context.Context, key, field string, value []byte) error {
	defer s.drop(key)()
	return s.next().HSet(ctx, key, field, value)
}
func (s *portStore) HGet(ctx context.Context, key, field string) ([]byte, error) {
	return s.next().HGet(ctx, key, field)
}
func (s *portStore) HExists(ctx context.Context, key, field string) (bool, error) {
	return s.next().HExists(ctx, key, field)
}
func (s *portStore) HGetAll(ctx context.Context, key string) (map[string][]byte, error) {
	return s.next().HGetAll(ctx, key)
}
func (s *portStore) HKeys(ctx context.Context, key string) ([]string, error) {
	return s.next().HKeys(ctx, key)
}
func (s *portStore) HDel(ctx context.Context, key string, fields ...string) (int64, error) {
	defer s.drop(key)()
	return s.next().HDel(ctx, key, fields...)
}
func (s *portStore) HDelBatch(ctx context.Context, dels []ports.HashFields) (int64, error) {
	keys := make([]string, len(dels))
	for i, d := range dels {
		keys[i] = d.Key
	}
	defer s.drop(keys...)()
	return s.next().HDelBatch(ctx, dels)
}
func (s *portStore) SAdd(ctx context.Context, key string, members ...string) (int64, error) {
	defer s.drop(key)()
	return s.next().SAdd(ctx, key, members...)
}
func (s *portStore) SRem(ctx context.Context, key string, members ...string) (int64, error) {
	defer s.drop(key)()
	return s.next().SRem(ctx, key, members...)
}
func (s *portStore) SIsMember(ctx context.Context, key, member string) (bool, error) {
	return s.next().SIsMember(ctx, key, member)
}
func (s *portStore) SPop(ctx context.Context, key string) (string, error) {
	defer s.drop(key)()
	return s.next().SPop(ctx, key)
}
func (s *portStore) SRandMember(ctx context.Context, key string, count int) ([]string, error) {
	return s.next().SRandMember(ctx, key, count)
}
func (s *portStore) SMembers(ctx context.Context, key string) ([]string, error) {
	return s.next().SMembers(ctx, key)
}
func (s *portStore) LPush(ctx context.Context, key string, values ...string) (int64, error) {
	defer s.drop(key)()
	return s.next().LPush(ctx, key, values...)
}
func (s *portStore) RPush(ctx context.Context, key string, values ...string) (int64, error) {
	defer s.drop(key)()
	return s.next().RPush(ctx, key, values...)
}
func (s *portStore) LPop(ctx context.Context, key string) (string, error) {
	defer s.drop(key)()
	return s.next().LPop(ctx, key)
}
func (s *portStore) RPop(ctx context.Context, key string) (string, error) {
	defer s.drop(key)()
	return s.next().RPop(ctx, key)
}
func (s *portStore) LLen(ctx context.Context, key string) (int64, error) {
	return s.next().LLen(ctx, key)
}
func (s *portStore) LRange(ctx context.Context, key string, start, stop int64) ([]string, error) {
	return s.next().LRange(ctx, key, start, stop)
}
func (s *portStore) LTrim(ctx context.Context, key string, start, stop int64) error {
	defer s.drop(key)()
	return s.next().LTrim(ctx, key, start, stop)
}
func (s *portStore) SugAdd(ctx context.Context, key string, suggestions ...domain.Suggestion) (int64, error) {
	defer s.drop(key)()
	return s.next().SugAdd(ctx, key, suggestions...)
}
func (s *portStore) SugGet(ctx context.Context, key, prefix string, opts domain.SugGetOptions) ([]domain.Suggestion, error) {
	return s.next().SugGet(ctx, key, prefix, opts)
}
func (s *portStore) SugDel(ctx context.Context, key, str string) (bool, error) {
	defer s.drop(key)()
	return s.next().SugDel(ctx, key, str)
}
func (s *portStore) SugLen(ctx context.Context, key string) (int64, error) {
	return s.next().SugLen(ctx, key)
}
