package clientcache

import (
	"context"
	"fmt"
	"reflect"

	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// GetValue returns the value of key as T: from local memory when it holds a
// fresh copy (no backend command, no allocation), else from the backend. A
// missing key is domain.ErrNotFound, and is remembered locally too (Redis
// tracks reads of missing keys).
func GetValue[T any](ctx context.Context, c *ClientCache, key string, opts ...app.Option) (T, error) {
	if v, err, ok := c.hit(key, opts); ok {
		if err != nil {
			var zero T
			return zero, err
		}
		if t, ok := v.(T); ok {
			return t, nil
		}
	}
	v, raw, err := c.get(ctx, key, opts, decodeAs[T], nil)
	return as[T](c.Codec(), v, raw, err)
}

// GetOrGenerate returns the value of key as T; when it is missing, gen runs
// once for all concurrent callers, its value is stored in the backend
// (without expiry) and kept locally. While the backend is unavailable, gen's
// value is returned without being cached.
func GetOrGenerate[T any](ctx context.Context, c *ClientCache, key string, gen func(context.Context) (T, error), opts ...app.Option) (T, error) {
	if v, err, ok := c.hit(key, opts); ok && err == nil {
		if t, ok := v.(T); ok {
			return t, nil
		}
	}
	if gen == nil {
		var zero T
		return zero, fmt.Errorf("%w: nil generator", domain.ErrInvalidArgument)
	}
	v, raw, err := c.get(ctx, key, opts, decodeAs[T], func(ctx context.Context) (any, []byte, error) {
		g, err := gen(ctx)
		if err != nil {
			return nil, nil, err
		}
		if any(g) == nil {
			return nil, nil, fmt.Errorf("%w: generator returned nil", domain.ErrInvalidArgument)
		}
		raw, err := c.Codec().Encode(g)
		return g, raw, err
	})
	return as[T](c.Codec(), v, raw, err)
}

// GetDoc returns the document name of doctype through the cache, calling
// load once when it is missing: Frappe's ClientCache.get_doc. The key is
// DocKey(doctype, name); an empty name means the doctype itself (a single
// DocType).
func GetDoc[T any](ctx context.Context, c *ClientCache, doctype, name string, load func(ctx context.Context, doctype, name string) (T, error)) (T, error) {
	if name == "" {
		name = doctype
	}
	if load == nil {
		var zero T
		return zero, fmt.Errorf("%w: nil loader", domain.ErrInvalidArgument)
	}
	return GetOrGenerate(ctx, c, DocKey(doctype, name), func(ctx context.Context) (T, error) {
		return load(ctx, doctype, name)
	})
}

// DocKey is the key of a cached document: "document_cache::<doctype>::<name>".
func DocKey(doctype, name string) string {
	return "document_cache::" + doctype + "::" + name
}

func decodeAs[T any](codec ports.Codec, raw []byte) (any, error) {
	var v T
	if err := codec.Decode(raw, &v); err != nil {
		return nil, err
	}
	return v, nil
}

// as converts what get returned into T, decoding raw when the kept value is
// of another type (another caller read the key as another type).
func as[T any](codec ports.Codec, v any, raw []byte, err error) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	if t, ok := v.(T); ok {
		return t, nil
	}
	var t T
	if err := codec.Decode(raw, &t); err != nil {
		return zero, err
	}
	return t, nil
}

// decodeAny decodes raw into a new value of like's type.
func decodeAny(codec ports.Codec, raw []byte, like any) (any, error) {
	p := reflect.New(reflect.TypeOf(like))
	if err := codec.Decode(raw, p.Interface()); err != nil {
		return nil, err
	}
	return p.Elem().Interface(), nil
}
