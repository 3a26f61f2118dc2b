package app

import (
	"context"

	"github.com/rediscache/rediscache/domain"
)

// Search is a site-scoped handle on autocomplete dictionaries, the Go form of
// Frappe's RedisearchWrapper (returned by RedisWrapper.ft). Every dictionary
// key is prefixed with the site, so two sites using the same dictionary name
// never see each other's suggestions.
type Search struct {
	c     *Cache
	index string
}

// DefaultIndex is the index name Frappe's ft() uses when none is given.
const DefaultIndex = "idx"

// FT returns the search handle of index (DefaultIndex when empty). As in
// Frappe, the index name only labels the handle; suggestions live in the
// dictionaries named in each call.
func (c *Cache) FT(index string) *Search {
	if index == "" {
		index = DefaultIndex
	}
	return &Search{c: c, index: index}
}

// Index returns the site-prefixed index name (Frappe's index_name).
func (s *Search) Index() string {
	k, _ := s.c.siteKey(s.index)
	return k
}

// SugAdd adds suggestions to the dictionary dict in one non-transactional
// pipeline and returns the dictionary size. A zero Score means
// domain.DefaultScore; Incr adds to the stored score; Payload (nil: none)
// replaces the stored payload.
func (s *Search) SugAdd(ctx context.Context, dict string, suggestions ...domain.Suggestion) (_ int64, err error) {
	ctx, span := s.c.start(ctx, "rediscache.FT.SugAdd", dict)
	defer s.c.end(span, &err)
	k, err := s.c.siteKey(dict)
	if err != nil {
		return 0, err
	}
	if len(suggestions) == 0 {
		return s.c.store.SugLen(ctx, k)
	}
	return s.c.store.SugAdd(ctx, k, suggestions...)
}

// SugGet returns the suggestions of dict that complete prefix, best first.
// A zero opts.Max asks for 10 (domain.DefaultSugMax), as Frappe's sugget
// does by default, on every backend; see domain.SugGetOptions.Limit.
func (s *Search) SugGet(ctx context.Context, dict, prefix string, opts domain.SugGetOptions) (_ []domain.Suggestion, err error) {
	ctx, span := s.c.start(ctx, "rediscache.FT.SugGet", dict)
	defer s.c.end(span, &err)
	k, err := s.c.siteKey(dict)
	if err != nil {
		return nil, err
	}
	return s.c.store.SugGet(ctx, k, prefix, opts)
}

// SugDel removes the suggestion exactly equal to str from dict and reports
// whether it was there.
func (s *Search) SugDel(ctx context.Context, dict, str string) (_ bool, err error) {
	ctx, span := s.c.start(ctx, "rediscache.FT.SugDel", dict)
	defer s.c.end(span, &err)
	k, err := s.c.siteKey(dict)
	if err != nil {
		return false, err
	}
	return s.c.store.SugDel(ctx, k, str)
}

// SugLen returns the number of suggestions in dict.
func (s *Search) SugLen(ctx context.Context, dict string) (_ int64, err error) {
	ctx, span := s.c.start(ctx, "rediscache.FT.SugLen", dict)
	defer s.c.end(span, &err)
	k, err := s.c.siteKey(dict)
	if err != nil {
		return 0, err
	}
	return s.c.store.SugLen(ctx, k)
}
