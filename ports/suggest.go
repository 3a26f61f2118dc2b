package ports

import (
	"context"

	"github.com/rediscache/rediscache/domain"
)

// Suggest keeps autocomplete dictionaries with the semantics of the
// RediSearch module's FT.SUG* commands as shipped by Debian (1.2.2). A
// backend without the module fails every call with domain.ErrNotSupported.
type Suggest interface {
	// SugAdd adds suggestions to the dictionary at key in one
	// non-transactional pipeline and returns the dictionary size after the
	// last one. A suggestion with an empty string or whose score is zero
	// after defaulting is not stored. Re-adding a string replaces its score
	// (or adds to it with Incr) and its payload (nil clears it).
	SugAdd(ctx context.Context, key string, suggestions ...domain.Suggestion) (int64, error)
	// SugGet returns up to opts.Max suggestions whose string starts with
	// prefix, compared case-insensitively (with opts.Fuzzy: within
	// Levenshtein distance 1), best ranking score first.
	SugGet(ctx context.Context, key, prefix string, opts domain.SugGetOptions) ([]domain.Suggestion, error)
	// SugDel removes the suggestion whose string is exactly s and reports
	// whether it existed. It never deletes a string that is not stored
	// (RediSearch 1.2.2 would corrupt the dictionary); a stored s that 10 or
	// more suggestions starting with it outrank is not found either.
	SugDel(ctx context.Context, key, s string) (bool, error)
	// SugLen returns the number of suggestions; 0 for a missing key.
	SugLen(ctx context.Context, key string) (int64, error)
}
