package app

import (
	"context"
	"errors"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// ValueReader is what the generic value helpers need: the Cache and the
// ClientCache both implement it.
type ValueReader interface {
	GetRaw(ctx context.Context, key string, opts ...Option) ([]byte, error)
	GetOrGenerateRaw(ctx context.Context, key string, gen func(context.Context) ([]byte, error), opts ...Option) ([]byte, error)
	Codec() ports.Codec
}

var _ ValueReader = (*Cache)(nil)

// GetValue returns the value of key decoded as T, or domain.ErrNotFound.
func GetValue[T any](ctx context.Context, r ValueReader, key string, opts ...Option) (T, error) {
	var v T
	data, err := r.GetRaw(ctx, key, opts...)
	if err != nil {
		return v, err
	}
	err = r.Codec().Decode(data, &v)
	return v, err
}

// GetOrGenerate returns the value of key decoded as T; when it is missing it
// calls gen and stores the result (see Cache.GetOrGenerateRaw for the
// details, including what happens when the backend is down).
func GetOrGenerate[T any](ctx context.Context, r ValueReader, key string, gen func(context.Context) (T, error), opts ...Option) (T, error) {
	var v T
	if gen == nil {
		return v, errNilGenerator
	}
	var generated *T
	data, err := r.GetOrGenerateRaw(ctx, key, func(ctx context.Context) ([]byte, error) {
		g, err := gen(ctx)
		if err != nil {
			return nil, err
		}
		generated = &g
		if any(g) == nil {
			return nil, errNilValue
		}
		return r.Codec().Encode(g)
	}, opts...)
	if err != nil {
		return v, err
	}
	if generated != nil {
		// Return what gen made, not a decoded copy: the caller gets the
		// value it would have got without a cache.
		return *generated, nil
	}
	err = r.Codec().Decode(data, &v)
	return v, err
}

// GetAll returns the values of every key GetKeys(prefix, opts...) lists,
// decoded as T, by key. Keys holding a hash, list or set, and keys removed
// while listing, are left out. (Frappe's get_all returned {prefix: None}: K2.)
func GetAll[T any](ctx context.Context, c *Cache, prefix string, opts ...Option) (map[string]T, error) {
	keys, err := c.GetKeys(ctx, prefix, opts...)
	if err != nil {
		return nil, err
	}
	out := make(map[string]T, len(keys))
	for _, k := range keys {
		v, err := GetValue[T](ctx, c, k, opts...)
		switch {
		case err == nil:
			out[k] = v
		case errors.Is(err, domain.ErrNotFound), errors.Is(err, domain.ErrWrongType):
		default:
			return nil, err
		}
	}
	return out, nil
}
