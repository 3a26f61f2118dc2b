package ports

import "context"

// List stores ordered sequences of strings (Redis lists). An empty list does
// not exist. Indexes follow Redis: 0 is the head, -1 the tail, and ranges are
// inclusive and clamped.
type List interface {
	// LPush prepends values one by one (so the last ends up first) and
	// returns the new length.
	LPush(ctx context.Context, key string, values ...string) (int64, error)
	// RPush appends values and returns the new length.
	RPush(ctx context.Context, key string, values ...string) (int64, error)
	// LPop removes and returns the head, or domain.ErrNotFound.
	LPop(ctx context.Context, key string) (string, error)
	// RPop removes and returns the tail, or domain.ErrNotFound.
	RPop(ctx context.Context, key string) (string, error)
	// LLen returns the length; 0 for a missing list.
	LLen(ctx context.Context, key string) (int64, error)
	// LRange returns the elements from start to stop, inclusive.
	LRange(ctx context.Context, key string, start, stop int64) ([]string, error)
	// LTrim keeps only the elements from start to stop, inclusive.
	LTrim(ctx context.Context, key string, start, stop int64) error
}
