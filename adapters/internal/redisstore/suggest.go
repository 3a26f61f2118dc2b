package redisstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/rediscache/rediscache/domain"
)

// The Suggest port, with the RediSearch module's FT.SUG* commands sent
// through Do (go-redis has no typed helpers for them). Without the module
// Redis answers "ERR unknown command", which translate turns into
// domain.ErrNotSupported naming the module; the module's "Invalid query"
// (a prefix of 200 bytes or 100 runes or more) becomes
// domain.ErrInvalidArgument.

// SugAdd adds suggestions to the dictionary at key with one FT.SUGADD
// each (score, INCR when Incr is set, PAYLOAD when Payload is not empty),
// sent in one non-transactional pipeline as Frappe's sugadd does (other
// clients' commands may interleave), and returns the reply of the last
// one: the dictionary size. A
// zero Score is sent as domain.DefaultScore; a NaN score fails with
// domain.ErrInvalidArgument before anything is sent. With no suggestions it
// returns FT.SUGLEN. If a command fails, the first error is returned; the
// commands before and after it have run.
func (s *Store) SugAdd(ctx context.Context, key string, suggestions ...domain.Suggestion) (int64, error) {
	const op = "ft.sugadd"
	if err := s.beginKey(ctx, op, key); err != nil {
		return 0, err
	}
	defer s.wrote(key)
	for _, sg := range suggestions {
		if math.IsNaN(sg.Score) {
			return 0, fmt.Errorf("%s: %w: score of %q is NaN", prefix(op, key), domain.ErrInvalidArgument, sg.String)
		}
	}
	if len(suggestions) == 0 {
		return s.SugLen(ctx, key)
	}
	pipe := s.client().Pipeline()
	cmds := make([]*redis.Cmd, len(suggestions))
	for i, sg := range suggestions {
		score := sg.Score
		if score == 0 {
			score = domain.DefaultScore
		}
		args := make([]any, 0, 7)
		args = append(args, "FT.SUGADD", key, sg.String, score)
		if sg.Incr {
			args = append(args, "INCR")
		}
		if len(sg.Payload) > 0 {
			args = append(args, "PAYLOAD", sg.Payload)
		}
		cmds[i] = pipe.Do(ctx, args...)
	}
	_, err := pipe.Exec(ctx)
	for _, cmd := range cmds {
		if cmd.Err() != nil {
			return 0, s.fail(ctx, op, key, cmd.Err())
		}
	}
	if err != nil {
		return 0, s.fail(ctx, op, key, err)
	}
	n, err := cmds[len(cmds)-1].Int64()
	if err != nil {
		return 0, s.fail(ctx, op, key, err)
	}
	return n, nil
}

// SugGet sends FT.SUGGET key prefix [FUZZY] [WITHSCORES] [WITHPAYLOADS]
// MAX n and returns at most n suggestions, best first. n is opts.Limit():
// 10 (Frappe's default) for a zero opts.Max, opts.Max within 1..10, and
// 5 (what RediSearch 1.2 gives any other MAX) otherwise.
// Scores are read from RESP2 bulk strings or RESP3 doubles. A missing key
// gives no suggestions.
func (s *Store) SugGet(ctx context.Context, key, prefix string, opts domain.SugGetOptions) ([]domain.Suggestion, error) {
	const op = "ft.sugget"
	if err := s.beginKey(ctx, op, key); err != nil {
		return nil, err
	}
	args := make([]any, 0, 8)
	args = append(args, "FT.SUGGET", key, prefix)
	if opts.Fuzzy {
		args = append(args, "FUZZY")
	}
	if opts.WithScores {
		args = append(args, "WITHSCORES")
	}
	if opts.WithPayloads {
		args = append(args, "WITHPAYLOADS")
	}
	args = append(args, "MAX", opts.Limit())
	reply, err := s.client().Do(ctx, args...).Slice()
	if errors.Is(err, redis.Nil) {
		return nil, nil // a missing key: the module replies with a null
	}
	if err != nil {
		return nil, s.fail(ctx, op, key, err)
	}
	out, err := parseSugGet(reply, opts.WithScores, opts.WithPayloads)
	if err != nil {
		return nil, wrap(op, key, err)
	}
	return out, nil
}

// parseSugGet reads the flat FT.SUGGET reply: string, then the score and
// the payload (nil when none) when they were asked for.
func parseSugGet(reply []any, withScores, withPayloads bool) ([]domain.Suggestion, error) {
	stride := 1
	if withScores {
		stride++
	}
	if withPayloads {
		stride++
	}
	if len(reply)%stride != 0 {
		return nil, fmt.Errorf("unexpected FT.SUGGET reply of %d elements for %d per suggestion", len(reply), stride)
	}
	if len(reply) == 0 {
		return nil, nil
	}
	out := make([]domain.Suggestion, 0, len(reply)/stride)
	for i := 0; i < len(reply); i += stride {
		var sg domain.Suggestion
		str, ok := reply[i].(string)
		if !ok {
			return nil, fmt.Errorf("unexpected FT.SUGGET suggestion of type %T", reply[i])
		}
		sg.String = str
		j := i + 1
		if withScores {
			score, err := sugScore(reply[j])
			if err != nil {
				return nil, err
			}
			sg.Score = score
			j++
		}
		if withPayloads {
			switch p := reply[j].(type) {
			case nil:
			case string:
				sg.Payload = []byte(p)
			default:
				return nil, fmt.Errorf("unexpected FT.SUGGET payload of type %T", reply[j])
			}
		}
		out = append(out, sg)
	}
	return out, nil
}

// sugScore reads a score: a bulk string in RESP2 ("inf", "-nan" and the
// like included), a double in RESP3.
func sugScore(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case string:
		if strings.EqualFold(strings.TrimLeft(x, "+-"), "nan") {
			return math.NaN(), nil // an entry INCRed from +inf by -inf: "-nan"
		}
		f, err := strconv.ParseFloat(x, 64)
		if err != nil {
			return 0, fmt.Errorf("unexpected FT.SUGGET score %q: %w", x, err)
		}
		return f, nil
	case int64:
		return float64(x), nil
	}
	return 0, fmt.Errorf("unexpected FT.SUGGET score of type %T", v)
}

// SugDel removes the suggestion str (exact, case-sensitive match) and
// reports whether it was there. The key stays even when the dictionary
// becomes empty.
//
// It first looks str up with FT.SUGGET and sends FT.SUGDEL only when str is
// stored: RediSearch 1.2.2 answers 1 to FT.SUGDEL of a mere common prefix of
// other suggestions, counts it down in FT.SUGLEN while the suggestions stay,
// and leaves the dictionary in a state that it cannot reload from an RDB
// snapshot (a replica resync or a restart then fails). Strings of 100 runes
// or more cannot be looked up (the module rejects such prefixes) and are
// deleted directly.
//
// Limit: the lookup sees the 10 best matches of str as a prefix; a stored
// str outranked by 10 or more suggestions that start with it (ignoring
// case) is not seen, and SugDel reports false without deleting it. The
// memory adapter decides the same way.
func (s *Store) SugDel(ctx context.Context, key, str string) (bool, error) {
	const op = "ft.sugdel"
	if err := s.beginKey(ctx, op, key); err != nil {
		return false, err
	}
	defer s.wrote(key)
	stored, err := s.sugStored(ctx, key, str)
	if err != nil {
		return false, s.fail(ctx, op, key, err)
	}
	if !stored {
		return false, nil
	}
	n, err := s.client().Do(ctx, "FT.SUGDEL", key, str).Int64()
	if err != nil {
		return false, s.fail(ctx, op, key, err)
	}
	return n == 1, nil
}

// sugStored reports whether str is a stored suggestion of key (true when it
// cannot tell: see SugDel). The exact match ranks first, boosted, among at
// most MaxSugMax results.
func (s *Store) sugStored(ctx context.Context, key, str string) (bool, error) {
	if utf8.RuneCountInString(str) >= 100 || len(str) >= 200 {
		return true, nil
	}
	reply, err := s.client().Do(ctx, "FT.SUGGET", key, str, "MAX", domain.MaxSugMax).Result()
	if err != nil {
		if errors.Is(err, redis.Nil) {
			return false, nil // missing key
		}
		return false, err
	}
	items, _ := reply.([]any)
	want := sugCanon(str)
	for _, it := range items {
		if got, ok := it.(string); ok && sugCanon(got) == want {
			return true, nil
		}
	}
	return false, nil
}

// sugCanon is the form the module stores a string in: 16-bit runes, up to
// the first NUL.
func sugCanon(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r == 0 {
			break
		}
		b.WriteRune(rune(uint16(r)))
	}
	return b.String()
}

// SugLen sends FT.SUGLEN key: the module's size counter, the number of
// suggestions unless SugDel was given common prefixes; 0 for a missing key.
func (s *Store) SugLen(ctx context.Context, key string) (int64, error) {
	const op = "ft.suglen"
	if err := s.beginKey(ctx, op, key); err != nil {
		return 0, err
	}
	n, err := s.client().Do(ctx, "FT.SUGLEN", key).Int64()
	if err != nil {
		return 0, s.fail(ctx, op, key, err)
	}
	return n, nil
}
