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
func GetValue[T any](ctx context.Context, s *Site, key string, opts ...app.Option) (T, error) {
	if e, ok := s.hit(key, opts, false); ok {
		s.hitSpan(ctx, "rediscache.GetValue", key)
		if e.missing {
			var zero T
			return zero, errCachedMiss
		}
		if t, ok := e.value.(T); ok {
			return t, nil
		}
		return decodeAs[T](s.Codec(), e.raw)
	}
	v, raw, err := s.get(ctx, "rediscache.GetValue", key, opts, decodeTo[T], nil)
	return as[T](s.Codec(), v, raw, err)
}

// GetOrGenerate returns the value of key as T; when it is missing (a
// remembered miss included), gen runs once for all concurrent callers, and
// its value is stored (with the Expires option's TTL, if any) and kept
// locally. While the backend is unavailable or refuses to store it, gen's
// value is returned without being kept (logged once).
func GetOrGenerate[T any](ctx context.Context, s *Site, key string, gen func(context.Context) (T, error), opts ...app.Option) (T, error) {
	return getOrGenerate(ctx, "rediscache.GetOrGenerate", s, key, gen, opts...)
}

// getOrGenerate is GetOrGenerate traced as op.
func getOrGenerate[T any](ctx context.Context, op string, s *Site, key string, gen func(context.Context) (T, error), opts ...app.Option) (T, error) {
	if e, ok := s.hit(key, opts, true); ok {
		s.hitSpan(ctx, op, key)
		if t, ok := e.value.(T); ok {
			return t, nil
		}
		return decodeAs[T](s.Codec(), e.raw)
	}
	if gen == nil {
		var zero T
		return zero, fmt.Errorf("%w: nil generator", domain.ErrInvalidArgument)
	}
	v, raw, err := s.get(ctx, op, key, opts, decodeTo[T], s.storing(key, opts, func(ctx context.Context) (any, []byte, error) {
		g, err := gen(ctx)
		if err != nil {
			return nil, nil, err
		}
		if any(g) == nil {
			return nil, nil, fmt.Errorf("%w: generator returned nil", domain.ErrInvalidArgument)
		}
		raw, err := s.Codec().Encode(g)
		return g, raw, err
	}))
	return as[T](s.Codec(), v, raw, err)
}

// GetDoc returns the document name of doctype through the cache, calling
// load once when it is missing: Frappe's ClientCache.get_doc. The key is
// DocKey(doctype, name); an empty name means the doctype itself (a single
// DocType).
func GetDoc[T any](ctx context.Context, s *Site, doctype, name string, load func(ctx context.Context, doctype, name string) (T, error)) (T, error) {
	if name == "" {
		name = doctype
	}
	if load == nil {
		var zero T
		return zero, fmt.Errorf("%w: nil loader", domain.ErrInvalidArgument)
	}
	return getOrGenerate(ctx, "rediscache.GetDoc", s, DocKey(doctype, name), func(ctx context.Context) (T, error) {
		return load(ctx, doctype, name)
	})
}

// DocKey is the key of a cached document: "document_cache::<doctype>::<name>".
func DocKey(doctype, name string) string {
	return "document_cache::" + doctype + "::" + name
}

// decodeTo is the decoder that keeps values as T.
func decodeTo[T any](codec ports.Codec, raw []byte) (any, error) {
	return decodeAs[T](codec, raw)
}

func decodeAs[T any](codec ports.Codec, raw []byte) (T, error) {
	var v T
	if err := codec.Decode(raw, &v); err != nil {
		var zero T
		return zero, err
	}
	return v, nil
}

// as converts what a read returned into T, decoding raw when the kept
// value is of another type (another caller read the key as another type).
func as[T any](codec ports.Codec, v any, raw []byte, err error) (T, error) {
	var zero T
	if err != nil {
		return zero, err
	}
	if t, ok := v.(T); ok {
		return t, nil
	}
	return decodeAs[T](codec, raw)
}

// decodeAny decodes raw into a new value of like's type.
func decodeAny(codec ports.Codec, raw []byte, like any) (any, error) {
	p := reflect.New(reflect.TypeOf(like))
	if err := codec.Decode(raw, p.Interface()); err != nil {
		return nil, err
	}
	return p.Elem().Interface(), nil
}
