package memory

import (
	"context"
	"fmt"
	"math"
	"slices"
	"unicode/utf8"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

var _ ports.Suggest = (*Store)(nil)

// sugKind is the extension kind of suggestion dictionaries, named after the
// module's Redis type (TYPE answers "trietype0").
const sugKind = "trietype0"

// SugAdd adds suggestions to the dictionary under key, as a pipeline of
// FT.SUGADD commands would (see sugdict.go for the exact rules of
// RediSearch 1.2.2), and returns the dictionary size after the last one. A
// zero Score means domain.DefaultScore; a NaN score fails the whole call
// with domain.ErrInvalidArgument before anything is stored. With no
// suggestions it only returns the size. The key is created even when no
// suggestion is stored (an empty string, or a score that is 0 in float32),
// and every call that adds reports key as changed (see emit) to the tracking of
// the other handles, as the module does. A key of another type fails with
// domain.ErrWrongType.
func (s *Store) SugAdd(ctx context.Context, key string, suggestions ...domain.Suggestion) (int64, error) {
	const op = "ft.sugadd"
	var n int64
	err := s.withExt(ctx, op, key, sugKind, func(cur any) (any, bool, error) {
		d, _ := cur.(*sugDict)
		for _, sg := range suggestions {
			if math.IsNaN(sg.Score) {
				return nil, false, fmt.Errorf("%s %q: %w: score of %q is NaN", op, key, domain.ErrInvalidArgument, sg.String)
			}
		}
		if len(suggestions) == 0 {
			if d != nil {
				n = d.len()
			}
			return nil, false, nil
		}
		if d == nil {
			d = newSugDict()
		}
		for _, sg := range suggestions {
			score := sg.Score
			if score == 0 {
				score = domain.DefaultScore
			}
			d.add(sg.String, score, sg.Incr, sg.Payload)
		}
		n = d.len()
		return d, true, nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// SugGet returns the suggestions of the dictionary under key that match
// prefix, best ranking score first, as FT.SUGGET does (see sugdict.go):
// case-insensitive prefix match (within Levenshtein distance 1 with
// opts.Fuzzy), at most opts.Limit() results (10 for a zero Max, as
// Frappe's sugget asks; 5 for a Max outside 1..10, as the module gives).
// Score is the module's ranking score, set
// only with opts.WithScores; Payload is a copy, set only with
// opts.WithPayloads. A missing key gives no suggestions and no error; on an
// existing key a prefix of 200 bytes or 100 runes or more fails with
// domain.ErrInvalidArgument. A key of another type fails with
// domain.ErrWrongType.
func (s *Store) SugGet(ctx context.Context, key, prefix string, opts domain.SugGetOptions) ([]domain.Suggestion, error) {
	const op = "ft.sugget"
	var out []domain.Suggestion
	err := s.withExt(ctx, op, key, sugKind, func(cur any) (any, bool, error) {
		d, _ := cur.(*sugDict)
		if d == nil {
			return nil, false, nil
		}
		matches, err := d.get(prefix, opts.Fuzzy, opts.Limit())
		if err != nil {
			return nil, false, fmt.Errorf("%s %q: %w: %w", op, key, domain.ErrInvalidArgument, err)
		}
		if len(matches) > 0 {
			out = make([]domain.Suggestion, len(matches))
		}
		for i, m := range matches {
			out[i].String = m.str
			if opts.WithScores {
				out[i].Score = float64(m.score)
			}
			if opts.WithPayloads && m.payload != nil {
				out[i].Payload = slices.Clone(m.payload)
			}
		}
		return nil, false, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// SugDel removes the suggestion whose string is exactly str (case-sensitive,
// FT.SUGDEL) from the dictionary under key and reports whether the module
// would answer 1: for an existing suggestion, and also, as RediSearch
// 1.2.2 does, for a string that is only a common prefix of others (then
// nothing visible is removed but the size counter decreases; see
// sugdict.go). Like 1.2.2 it keeps the key when the dictionary becomes
// empty. A deletion is reported to the tracking of the
// other handles (Redis does not report FT.SUGDEL, which no cache relies
// on). A key of another type fails with domain.ErrWrongType.
func (s *Store) SugDel(ctx context.Context, key, str string) (bool, error) {
	var found bool
	err := s.withExt(ctx, "ft.sugdel", key, sugKind, func(cur any) (any, bool, error) {
		d, _ := cur.(*sugDict)
		if d == nil {
			return nil, false, nil
		}
		// Only a string the lookup finds is deleted, exactly as the Redis
		// adapter decides (see redisstore's SugDel): FT.SUGGET str MAX 10
		// must return str itself, for strings of fewer than 100 runes and
		// 200 bytes (longer ones cannot be looked up and are deleted
		// directly). The module's answer to a mere common prefix (1, a
		// lower count, nothing removed) leaves a dictionary it cannot
		// reload. The lookup also has the module's side effect of sorting
		// the trie nodes it visits, which decides later tie order.
		if utf8.RuneCountInString(str) < sugMaxPrefixRunes && len(str) < sugMaxPrefixBytes {
			matches, err := d.get(str, false, domain.MaxSugMax)
			if err != nil {
				return nil, false, err
			}
			want := sugEncode(sugRunes(str))
			if !slices.ContainsFunc(matches, func(m sugMatch) bool { return m.str == want }) {
				return nil, false, nil
			}
		}
		found = d.del(str) == 1
		return d, found, nil
	})
	if err != nil {
		return false, err
	}
	return found, nil
}

// SugLen returns the size counter of the dictionary under key
// (FT.SUGLEN): the number of suggestions, 0 for a missing key, unless
// SugDel was given inner prefixes (see SugDel). A key of another type fails
// with domain.ErrWrongType.
func (s *Store) SugLen(ctx context.Context, key string) (int64, error) {
	var n int64
	err := s.withExt(ctx, "ft.suglen", key, sugKind, func(cur any) (any, bool, error) {
		if d, _ := cur.(*sugDict); d != nil {
			n = d.len()
		}
		return nil, false, nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}
