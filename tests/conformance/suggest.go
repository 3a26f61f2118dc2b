package conformance

import (
	"context"
	"fmt"
	"math"
	"strings"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// The Suggest specs pin down the behaviour of Debian's RediSearch 1.2.2
// (FT.SUGADD, FT.SUGGET, FT.SUGDEL, FT.SUGLEN) with exact expected values:
// a Redis backend gets them from the module and the memory backend must
// compute the same. Expected scores are the module's ranking scores
// written as formulas (stored score, 2147483648 for an exact match, times
// exp(-2) for a fuzzy match at distance 1, divided by
// sqrt(1+|runes-prefixBytes|)); they are compared within 1e-6 relative, as
// the module rounds them to float32. Results with equal scores may come
// back in any order.

// sugExact is the ranking score of an exact match before normalisation
// ((float)INT_MAX).
const sugExact = 2147483648.0

// sugFuzzy1 is the penalty of a fuzzy match at distance 1.
var sugFuzzy1 = math.Exp(-2)

// sugOf is a suggestion with a score, for building inputs and expectations.
func sugOf(s string, score float64) domain.Suggestion {
	return domain.Suggestion{String: s, Score: score}
}

// sugPayload returns s with payload p.
func sugPayload(s domain.Suggestion, p string) domain.Suggestion {
	s.Payload = []byte(p)
	return s
}

// sugIncr returns s added with INCR.
func sugIncr(s domain.Suggestion) domain.Suggestion {
	s.Incr = true
	return s
}

// sugScoreClose reports whether a is b within 1e-6 relative.
func sugScoreClose(a, b float64) bool {
	if a == b {
		return true
	}
	return math.Abs(a-b) <= 1e-6*math.Max(math.Abs(a), math.Abs(b))
}

// sugID identifies a result by string and payload, for set comparisons.
func sugID(s domain.Suggestion) string {
	if s.Payload == nil {
		return fmt.Sprintf("%q (no payload)", s.String)
	}
	return fmt.Sprintf("%q (payload %q)", s.String, s.Payload)
}

// expectSugs checks a SugGet result against want, best first: the same
// length, each score within 1e-6 relative, and the same strings and
// payloads, compared as sets within each run of equal expected scores.
func expectSugs(got []domain.Suggestion, err error, want ...domain.Suggestion) {
	ginkgo.GinkgoHelper()
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	gomega.Expect(got).To(gomega.HaveLen(len(want)), "got %v, want %v", got, want)
	for i := 0; i < len(want); {
		j := i + 1
		for j < len(want) && sugScoreClose(want[j].Score, want[i].Score) {
			j++
		}
		var gotIDs, wantIDs []string
		for k := i; k < j; k++ {
			gomega.Expect(sugScoreClose(got[k].Score, want[i].Score)).To(gomega.BeTrue(),
				"result %d %q has score %v, want %v (got %v)", k, got[k].String, got[k].Score, want[i].Score, got)
			gotIDs = append(gotIDs, sugID(got[k]))
			wantIDs = append(wantIDs, sugID(want[k]))
		}
		gomega.Expect(gotIDs).To(gomega.ConsistOf(wantIDs), "results %d..%d (got %v)", i, j-1, got)
		i = j
	}
}

// sugScored are the options of a lookup that wants scores, at most max
// results.
func sugScored(max int) domain.SugGetOptions {
	return domain.SugGetOptions{WithScores: true, Max: max}
}

// sugFuzzyScored are scored options with FUZZY.
func sugFuzzyScored(max int) domain.SugGetOptions {
	return domain.SugGetOptions{Fuzzy: true, WithScores: true, Max: max}
}

// suggestCall is one Suggest method called with representative arguments.
type suggestCall struct {
	name string
	call func(ctx context.Context, s ports.Store, key string) error
}

var suggestCalls = []suggestCall{
	{"SugAdd", func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.SugAdd(ctx, key, sugOf("hello", 1))
		return err
	}},
	{"SugGet", func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.SugGet(ctx, key, "he", domain.SugGetOptions{})
		return err
	}},
	{"SugDel", func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.SugDel(ctx, key, "hello")
		return err
	}},
	{"SugLen", func(ctx context.Context, s ports.Store, key string) error {
		_, err := s.SugLen(ctx, key)
		return err
	}},
}

// describeSuggest registers the specs of the Suggest port.
func describeSuggest(newBackend Factory, f Features) {
	ginkgo.Describe("Suggest", func() {
		describeSuggestions(newBackend, f)
	})
	ginkgo.Describe("Suggest without the RediSearch module", func() {
		describeNoModule(f)
	})
}

// describeSuggestions registers the specs of a backend with Suggest.
func describeSuggestions(newBackend Factory, f Features) {
	var (
		b Backend
		s ports.Store
		p string
	)
	ginkgo.BeforeEach(func() {
		if !f.Suggest {
			ginkgo.Skip("backend has no Suggest (Features.Suggest is false)")
		}
		b = setup(context.Background(), newBackend)
		s = b.Store
		p = Prefix()
	})

	// add adds suggestions to key and checks the reply.
	add := func(ctx context.Context, key string, size int64, suggestions ...domain.Suggestion) {
		ginkgo.GinkgoHelper()
		gomega.Expect(s.SugAdd(ctx, key, suggestions...)).To(gomega.Equal(size))
	}

	ginkgo.Describe("a missing dictionary", func() {
		it("has no suggestions, size 0, nothing to delete, and is not created by reads", func(ctx ginkgo.SpecContext) {
			key := p + "missing"
			got, err := s.SugGet(ctx, key, "he", sugScored(0))
			expectSugs(got, err)
			gomega.Expect(s.SugLen(ctx, key)).To(gomega.BeZero())
			gomega.Expect(s.SugDel(ctx, key, "hello")).To(gomega.BeFalse())
			gomega.Expect(s.SugAdd(ctx, key)).To(gomega.BeZero(), "SugAdd of nothing")
			gomega.Expect(s.Exists(ctx, key)).To(gomega.BeZero())
		})
	})

	ginkgo.Describe("SugAdd", func() {
		it("returns the dictionary size after the last suggestion, also on update", func(ctx ginkgo.SpecContext) {
			key := p + "dict"
			add(ctx, key, 3, sugOf("hello", 1), sugOf("help", 1), sugOf("helm", 1))
			gomega.Expect(s.SugLen(ctx, key)).To(gomega.Equal(int64(3)))
			add(ctx, key, 3, sugOf("hello", 2))
			add(ctx, key, 4, sugOf("hello", 3), sugOf("world", 1))
			add(ctx, key, 4)
		})
		it("stores a zero score as DefaultScore and a negative one as is", func(ctx ginkgo.SpecContext) {
			key := p + "dict"
			add(ctx, key, 2, sugOf("zero", 0), sugOf("negative", -2))
			got, err := s.SugGet(ctx, key, "ze", sugScored(0))
			expectSugs(got, err, sugOf("zero", domain.DefaultScore/math.Sqrt(3)))
			got, err = s.SugGet(ctx, key, "ne", sugScored(0))
			expectSugs(got, err, sugOf("negative", -2/math.Sqrt(7)))
		})
		it("does not store an empty string nor a score that is 0 in float32", func(ctx ginkgo.SpecContext) {
			key := p + "dict"
			add(ctx, key, 1, sugOf("kept", 1))
			add(ctx, key, 1, sugOf("", 1), sugOf("tiny", 1e-50))
			got, err := s.SugGet(ctx, key, "", sugScored(10))
			expectSugs(got, err, sugOf("kept", 1/math.Sqrt(5)))
		})
		it("ignores strings of 255 runes or more than 510 bytes", func(ctx ginkgo.SpecContext) {
			key := p + "dict"
			add(ctx, key, 1, sugOf(strings.Repeat("a", 254), 1))
			add(ctx, key, 1, sugOf(strings.Repeat("b", 255), 1))
			add(ctx, key, 2, sugOf(strings.Repeat("東", 170), 1)) // 510 bytes
			add(ctx, key, 2, sugOf(strings.Repeat("東", 170)+"x", 1))
			got, err := s.SugGet(ctx, key, "b", sugScored(0))
			expectSugs(got, err)
			got, err = s.SugGet(ctx, key, "東", sugScored(0))
			expectSugs(got, err, sugOf(strings.Repeat("東", 170), 1/math.Sqrt(168)))
		})
		it("replaces the score, or adds to it with Incr, on existing and new strings", func(ctx ginkgo.SpecContext) {
			key := p + "dict"
			add(ctx, key, 1, sugOf("apple", 1))
			add(ctx, key, 1, sugIncr(sugOf("apple", 2)))
			add(ctx, key, 2, sugIncr(sugOf("apricot", 2)))
			got, err := s.SugGet(ctx, key, "ap", sugScored(0))
			expectSugs(got, err, sugOf("apple", 3/math.Sqrt(4)), sugOf("apricot", 2/math.Sqrt(6)))
			add(ctx, key, 2, sugOf("apple", 1))
			got, err = s.SugGet(ctx, key, "ap", sugScored(0))
			expectSugs(got, err, sugOf("apricot", 2/math.Sqrt(6)), sugOf("apple", 1/math.Sqrt(4)))
		})
		it("replaces the payload, and clears it when re-added without one", func(ctx ginkgo.SpecContext) {
			key := p + "dict"
			opts := domain.SugGetOptions{WithScores: true, WithPayloads: true}
			add(ctx, key, 2, sugPayload(sugOf("a1", 1), "p1"), sugOf("a2", 2))
			got, err := s.SugGet(ctx, key, "a", opts)
			expectSugs(got, err, sugOf("a2", 2/math.Sqrt(2)), sugPayload(sugOf("a1", 1/math.Sqrt(2)), "p1"))

			add(ctx, key, 2, sugPayload(sugOf("a1", 1), "p2"))
			got, err = s.SugGet(ctx, key, "a", opts)
			expectSugs(got, err, sugOf("a2", 2/math.Sqrt(2)), sugPayload(sugOf("a1", 1/math.Sqrt(2)), "p2"))

			add(ctx, key, 2, sugIncr(sugPayload(sugOf("a1", 2), "p3")))
			got, err = s.SugGet(ctx, key, "a", opts)
			expectSugs(got, err, sugPayload(sugOf("a1", 3/math.Sqrt(2)), "p3"), sugOf("a2", 2/math.Sqrt(2)))

			add(ctx, key, 2, sugIncr(sugOf("a1", 1)))
			got, err = s.SugGet(ctx, key, "a", opts)
			expectSugs(got, err, sugOf("a1", 4/math.Sqrt(2)), sugOf("a2", 2/math.Sqrt(2)))

			add(ctx, key, 2, sugPayload(sugOf("a1", 1), "p4"))
			got, err = s.SugGet(ctx, key, "a", sugScored(0))
			expectSugs(got, err, sugOf("a2", 2/math.Sqrt(2)), sugOf("a1", 1/math.Sqrt(2))) // not asked for
		})
		it("fails with ErrInvalidArgument on a NaN score and stores nothing", func(ctx ginkgo.SpecContext) {
			key := p + "dict"
			_, err := s.SugAdd(ctx, key, sugOf("ok", 1), sugOf("nan", math.NaN()))
			gomega.Expect(err).To(gomega.MatchError(domain.ErrInvalidArgument))
			gomega.Expect(s.Exists(ctx, key)).To(gomega.BeZero())
		})
	})

	ginkgo.Describe("SugGet", func() {
		it("matches ASCII prefixes case-insensitively, best ranking score first", func(ctx ginkgo.SpecContext) {
			key := p + "dict"
			add(ctx, key, 5, sugOf("help", 3), sugOf("hello", 2), sugOf("hell", 1), sugOf("HELLO", 5), sugOf("world", 1))
			want := []domain.Suggestion{
				sugOf("HELLO", 5/math.Sqrt(3)), sugOf("help", 3/math.Sqrt(2)),
				sugOf("hello", 2/math.Sqrt(3)), sugOf("hell", 1/math.Sqrt(2)),
			}
			for _, prefix := range []string{"hel", "HEL", "hEl"} {
				got, err := s.SugGet(ctx, key, prefix, sugScored(10))
				expectSugs(got, err, want...)
			}
			got, err := s.SugGet(ctx, key, "hel", domain.SugGetOptions{Max: 10})
			gomega.Expect(err).NotTo(gomega.HaveOccurred())
			var strs []string
			for _, g := range got {
				gomega.Expect(g.Score).To(gomega.BeZero(), "score not asked for")
				gomega.Expect(g.Payload).To(gomega.BeNil(), "payload not asked for")
				strs = append(strs, g.String)
			}
			gomega.Expect(strs).To(gomega.Equal([]string{"HELLO", "help", "hello", "hell"}))
		})
		it("boosts an exact match whose stored string equals the folded prefix", func(ctx ginkgo.SpecContext) {
			key := p + "dict"
			add(ctx, key, 4, sugOf("hello", 2), sugOf("hell", 1), sugOf("HELLO", 5), sugOf("Abc", 1))
			for _, prefix := range []string{"hell", "HELL"} {
				got, err := s.SugGet(ctx, key, prefix, sugScored(10))
				expectSugs(got, err, sugOf("hell", sugExact), sugOf("HELLO", 5/math.Sqrt(2)), sugOf("hello", 2/math.Sqrt(2)))
			}
			for _, prefix := range []string{"abc", "ABC"} {
				got, err := s.SugGet(ctx, key, prefix, sugScored(10))
				expectSugs(got, err, sugOf("Abc", 1)) // "Abc" is not the folded "abc"
			}
		})
		it("folds non-ASCII runes and normalises by the prefix length in bytes", func(ctx ginkgo.SpecContext) {
			key := p + "dict"
			add(ctx, key, 4, sugOf("Zürich", 1), sugOf("ZÜRICH", 2), sugOf("東京", 1), sugOf("héllo", 1))
			for _, prefix := range []string{"zü", "ZÜ", "Zü"} { // 3 bytes
				got, err := s.SugGet(ctx, key, prefix, sugScored(0))
				expectSugs(got, err, sugOf("ZÜRICH", 2/math.Sqrt(4)), sugOf("Zürich", 1/math.Sqrt(4)))
			}
			got, err := s.SugGet(ctx, key, "zu", sugScored(0))
			expectSugs(got, err)
			got, err = s.SugGet(ctx, key, "zürich", sugScored(0)) // 7 bytes
			expectSugs(got, err, sugOf("ZÜRICH", 2/math.Sqrt(2)), sugOf("Zürich", 1/math.Sqrt(2)))
			got, err = s.SugGet(ctx, key, "東", sugScored(0))
			expectSugs(got, err, sugOf("東京", 1/math.Sqrt(2)))
			got, err = s.SugGet(ctx, key, "東京", sugScored(0))
			expectSugs(got, err, sugOf("東京", sugExact/math.Sqrt(5)))
			for _, prefix := range []string{"hé", "HÉ"} {
				got, err = s.SugGet(ctx, key, prefix, sugScored(0))
				expectSugs(got, err, sugOf("héllo", 1/math.Sqrt(3)))
			}
			got, err = s.SugGet(ctx, key, "he", sugScored(0))
			expectSugs(got, err)
		})
		it("keeps strings that differ in case apart", func(ctx ginkgo.SpecContext) {
			key := p + "dict"
			add(ctx, key, 2, sugOf("hello", 1), sugOf("Hello", 2))
			got, err := s.SugGet(ctx, key, "HELL", sugScored(0))
			expectSugs(got, err, sugOf("Hello", 2/math.Sqrt(2)), sugOf("hello", 1/math.Sqrt(2)))
		})
		it("with Fuzzy matches prefixes within Levenshtein distance 1", func(ctx ginkgo.SpecContext) {
			key := p + "dict"
			add(ctx, key, 2, sugOf("hello", 2), sugOf("abcd", 1))
			got, err := s.SugGet(ctx, key, "hwll", sugFuzzyScored(0)) // substitution
			expectSugs(got, err, sugOf("hello", 2*sugFuzzy1/math.Sqrt(2)))
			got, err = s.SugGet(ctx, key, "hwll", sugScored(0))
			expectSugs(got, err)
			got, err = s.SugGet(ctx, key, "abx", sugFuzzyScored(0))
			expectSugs(got, err, sugOf("abcd", sugFuzzy1/math.Sqrt(2)))
			got, err = s.SugGet(ctx, key, "helo", sugFuzzyScored(0)) // insertion: "hello" vs "helo"
			expectSugs(got, err, sugOf("hello", 2*sugFuzzy1/math.Sqrt(2)))
			got, err = s.SugGet(ctx, key, "hel", sugFuzzyScored(0)) // an exact prefix is at distance 0
			expectSugs(got, err, sugOf("hello", 2/math.Sqrt(3)))
			got, err = s.SugGet(ctx, key, "hello", sugFuzzyScored(0))
			expectSugs(got, err, sugOf("hello", sugExact))
		})
		it("with Fuzzy misses transpositions and distance 2", func(ctx ginkgo.SpecContext) {
			key := p + "dict"
			add(ctx, key, 2, sugOf("hello", 2), sugOf("abcd", 1))
			for _, prefix := range []string{"bacd", "ehllo", "hxyz", "axxd"} {
				got, err := s.SugGet(ctx, key, prefix, sugFuzzyScored(0))
				expectSugs(got, err)
			}
		})
		ginkgo.Describe("Max", func() {
			var key string
			ginkgo.BeforeEach(func(ctx ginkgo.SpecContext) {
				key = p + "dict"
				var all []domain.Suggestion
				for i := 1; i <= 12; i++ {
					all = append(all, sugOf(fmt.Sprintf("w%d", i), float64(i)))
				}
				add(ctx, key, 12, all...)
			})
			// ranked is every suggestion for "w", best first.
			ranked := []domain.Suggestion{
				sugOf("w12", 12/math.Sqrt(3)), sugOf("w9", 9/math.Sqrt(2)), sugOf("w11", 11/math.Sqrt(3)),
				sugOf("w10", 10/math.Sqrt(3)), sugOf("w8", 8/math.Sqrt(2)), sugOf("w7", 7/math.Sqrt(2)),
				sugOf("w6", 6/math.Sqrt(2)), sugOf("w5", 5/math.Sqrt(2)), sugOf("w4", 4/math.Sqrt(2)),
				sugOf("w3", 3/math.Sqrt(2)), sugOf("w2", 2/math.Sqrt(2)), sugOf("w1", 1/math.Sqrt(2)),
			}
			it("0 means Frappe's default, 10", func(ctx ginkgo.SpecContext) {
				got, err := s.SugGet(ctx, key, "w", sugScored(0))
				expectSugs(got, err, ranked[:10]...)
			})
			it("1 gives the best one", func(ctx ginkgo.SpecContext) {
				got, err := s.SugGet(ctx, key, "w", sugScored(1))
				expectSugs(got, err, ranked[:1]...)
			})
			it("10 (MaxSugMax) gives 10", func(ctx ginkgo.SpecContext) {
				got, err := s.SugGet(ctx, key, "w", sugScored(domain.MaxSugMax))
				expectSugs(got, err, ranked[:10]...)
			})
			it("outside 1..10 gives the module's default, 5", func(ctx ginkgo.SpecContext) {
				for _, max := range []int{-1, 11, 100} {
					got, err := s.SugGet(ctx, key, "w", sugScored(max))
					expectSugs(got, err, ranked[:5]...)
				}
			})
			it("more than the dictionary holds gives all matches", func(ctx ginkgo.SpecContext) {
				got, err := s.SugGet(ctx, key, "w1", sugScored(10))
				expectSugs(got, err,
					sugOf("w1", sugExact), sugOf("w12", 12/math.Sqrt(2)), sugOf("w11", 11/math.Sqrt(2)), sugOf("w10", 10/math.Sqrt(2)))
			})
		})
		it("returns equal scores as a group", func(ctx ginkgo.SpecContext) {
			key := p + "dict"
			add(ctx, key, 4, sugOf("tie-a", 2), sugOf("tie-b", 2), sugOf("tie-c", 2), sugOf("top", 5))
			got, err := s.SugGet(ctx, key, "t", sugScored(0))
			expectSugs(got, err, sugOf("top", 5/math.Sqrt(3)),
				sugOf("tie-a", 2/math.Sqrt(5)), sugOf("tie-b", 2/math.Sqrt(5)), sugOf("tie-c", 2/math.Sqrt(5)))
		})
		it("fails with ErrInvalidArgument on a prefix of 100 runes or 200 bytes, only for an existing key", func(ctx ginkgo.SpecContext) {
			key := p + "dict"
			add(ctx, key, 1, sugOf(strings.Repeat("a", 120), 1))
			_, err := s.SugGet(ctx, key, strings.Repeat("a", 99), sugScored(0))
			gomega.Expect(err).NotTo(gomega.HaveOccurred())
			_, err = s.SugGet(ctx, key, strings.Repeat("é", 99), sugScored(0)) // 198 bytes
			gomega.Expect(err).NotTo(gomega.HaveOccurred())
			for _, prefix := range []string{strings.Repeat("a", 100), strings.Repeat("é", 100), strings.Repeat("東", 66) + "aa"} {
				_, err = s.SugGet(ctx, key, prefix, sugScored(0))
				gomega.Expect(err).To(gomega.MatchError(domain.ErrInvalidArgument), "prefix of %d bytes", len(prefix))
				_, err = s.SugGet(ctx, key, prefix, sugFuzzyScored(0))
				gomega.Expect(err).To(gomega.MatchError(domain.ErrInvalidArgument), "fuzzy prefix of %d bytes", len(prefix))
			}
			got, err := s.SugGet(ctx, p+"missing", strings.Repeat("a", 100), sugScored(0))
			expectSugs(got, err)
		})
	})

	ginkgo.Describe("SugDel", func() {
		it("deletes by sugExact, case-sensitive string", func(ctx ginkgo.SpecContext) {
			key := p + "dict"
			add(ctx, key, 2, sugOf("help", 1), sugOf("Hello", 1))
			gomega.Expect(s.SugDel(ctx, key, "HELP")).To(gomega.BeFalse())
			gomega.Expect(s.SugDel(ctx, key, "help")).To(gomega.BeTrue())
			gomega.Expect(s.SugDel(ctx, key, "help")).To(gomega.BeFalse())
			gomega.Expect(s.SugDel(ctx, key, "not there")).To(gomega.BeFalse())
			gomega.Expect(s.SugLen(ctx, key)).To(gomega.Equal(int64(1)))
			got, err := s.SugGet(ctx, key, "he", sugScored(0))
			expectSugs(got, err, sugOf("Hello", 1/math.Sqrt(4)))
		})
		it("keeps the dictionary key when the last suggestion goes", func(ctx ginkgo.SpecContext) {
			key := p + "dict"
			add(ctx, key, 1, sugOf("only", 1))
			gomega.Expect(s.SugDel(ctx, key, "only")).To(gomega.BeTrue())
			gomega.Expect(s.SugLen(ctx, key)).To(gomega.BeZero())
			got, err := s.SugGet(ctx, key, "", sugScored(0))
			expectSugs(got, err)
			gomega.Expect(s.Exists(ctx, key)).To(gomega.Equal(int64(1)))
			_, err = s.Get(ctx, key)
			gomega.Expect(err).To(gomega.MatchError(domain.ErrWrongType))
			add(ctx, key, 1, sugOf("again", 1))
		})
	})

	ginkgo.Describe("dictionaries", func() {
		it("never see each other's suggestions (two sites, two keys)", func(ctx ginkgo.SpecContext) {
			site1, site2 := p+"site1|dict", p+"site2|dict"
			add(ctx, site1, 1, sugOf("hello", 1))
			add(ctx, site2, 2, sugOf("help", 1), sugOf("helm", 1))
			got, err := s.SugGet(ctx, site1, "hel", sugScored(0))
			expectSugs(got, err, sugOf("hello", 1/math.Sqrt(3)))
			got, err = s.SugGet(ctx, site2, "hel", sugScored(0))
			expectSugs(got, err, sugOf("help", 1/math.Sqrt(2)), sugOf("helm", 1/math.Sqrt(2)))
			gomega.Expect(s.SugDel(ctx, site1, "help")).To(gomega.BeFalse())
			gomega.Expect(s.SugLen(ctx, site1)).To(gomega.Equal(int64(1)))
			gomega.Expect(s.SugLen(ctx, site2)).To(gomega.Equal(int64(2)))
		})
		it("are keys of their own type: WRONGTYPE both ways", func(ctx ginkgo.SpecContext) {
			dict, str := p+"dict", p+"string"
			add(ctx, dict, 1, sugOf("hello", 1))
			populate(ctx, s, str, kindString)
			for _, c := range suggestCalls {
				gomega.Expect(c.call(ctx, s, str)).To(gomega.MatchError(domain.ErrWrongType), c.name)
			}
			expectIntact(ctx, s, str, kindString)
			_, err := s.Get(ctx, dict)
			gomega.Expect(err).To(gomega.MatchError(domain.ErrWrongType))
			_, err = s.HGet(ctx, dict, "f")
			gomega.Expect(err).To(gomega.MatchError(domain.ErrWrongType))
			gomega.Expect(s.Exists(ctx, dict)).To(gomega.Equal(int64(1)))
			gomega.Expect(s.Del(ctx, dict)).To(gomega.Equal(int64(1)))
			gomega.Expect(s.SugLen(ctx, dict)).To(gomega.BeZero())
		})
		it("are shared by the clients of a backend", func(ctx ginkgo.SpecContext) {
			if b.Peer == nil {
				ginkgo.Skip("backend has no Peer")
			}
			key := p + "dict"
			gomega.Expect(b.Peer.SugAdd(ctx, key, sugOf("hello", 1))).To(gomega.Equal(int64(1)))
			got, err := s.SugGet(ctx, key, "he", sugScored(0))
			expectSugs(got, err, sugOf("hello", 1/math.Sqrt(4)))
		})
		it("report SugAdd and SugDel through the store to its tracking before they return", func(ctx ginkgo.SpecContext) {
			if b.Tracker == nil {
				ginkgo.Skip("backend has no Tracker")
			}
			key := p + "dict"
			rec := &Recorder{}
			untrack, err := b.Tracker.Track(ctx, rec)
			gomega.Expect(err).NotTo(gomega.HaveOccurred())
			defer untrack()
			add(ctx, key, 1, sugOf("hello", 1))
			gomega.Expect(rec.Count(key)).To(gomega.Equal(1))
			gomega.Expect(s.SugDel(ctx, key, "hello")).To(gomega.BeTrue())
			gomega.Expect(rec.Count(key)).To(gomega.Equal(2))
		})
	})

	ginkgo.Describe("every Suggest method", func() {
		for _, c := range suggestCalls {
			it(c.name+" fails with ErrInvalidArgument on an empty key", func(ctx ginkgo.SpecContext) {
				gomega.Expect(c.call(ctx, s, "")).To(gomega.MatchError(domain.ErrInvalidArgument))
			})
			it(c.name+" fails with context.Canceled on a cancelled context", func(ctx ginkgo.SpecContext) {
				add(ctx, p+"dict", 1, sugOf("hello", 1))
				gomega.Expect(c.call(cancelled(ctx), s, p+"dict")).To(gomega.MatchError(context.Canceled))
			})
		}
	})

	ginkgo.Describe("quirks of RediSearch 1.2.2", func() {
		it("creates the key even when no suggestion is stored", func(ctx ginkgo.SpecContext) {
			key := p + "dict"
			add(ctx, key, 0, sugOf("", 1))
			gomega.Expect(s.Exists(ctx, key)).To(gomega.Equal(int64(1)))
			gomega.Expect(s.SugLen(ctx, key)).To(gomega.BeZero())
		})
		it("truncates runes to 16 bits", func(ctx ginkgo.SpecContext) {
			key := p + "dict"
			add(ctx, key, 1, sugOf("😀x", 1)) // U+1F600 is stored as U+F600
			got, err := s.SugGet(ctx, key, "", sugScored(0))
			expectSugs(got, err, sugOf("\uf600x", 1/math.Sqrt(3)))
			add(ctx, key, 1, sugOf("\uf600x", 2))
			gomega.Expect(s.SugDel(ctx, key, "😀x")).To(gomega.BeTrue())
			gomega.Expect(s.SugLen(ctx, key)).To(gomega.BeZero())
		})
		it("boosts a string whose first half equals the folded prefix", func(ctx ginkgo.SpecContext) {
			// memcmp over as many bytes as runes compares "hel" (and the low
			// byte of "l") only.
			key := p + "dict"
			add(ctx, key, 2, sugOf("hellO", 1), sugOf("heLLo", 1))
			got, err := s.SugGet(ctx, key, "hello", sugScored(0))
			expectSugs(got, err, sugOf("hellO", sugExact), sugOf("heLLo", 1))
		})
		it("counts a fuzzy match of an empty prefix at distance 1", func(ctx ginkgo.SpecContext) {
			key := p + "dict"
			add(ctx, key, 1, sugOf("abcd", 1))
			got, err := s.SugGet(ctx, key, "", sugFuzzyScored(0))
			expectSugs(got, err, sugOf("abcd", sugFuzzy1/math.Sqrt(5)))
		})
		it("refuses SugDel of a mere common prefix, which the module would count down and corrupt", func(ctx ginkgo.SpecContext) {
			key := p + "dict"
			add(ctx, key, 2, sugOf("xa", 1), sugOf("xb", 1))
			gomega.Expect(s.SugDel(ctx, key, "x")).To(gomega.BeFalse())
			gomega.Expect(s.SugLen(ctx, key)).To(gomega.Equal(int64(2)))
			got, err := s.SugGet(ctx, key, "x", sugScored(0))
			expectSugs(got, err, sugOf("xa", 1/math.Sqrt(2)), sugOf("xb", 1/math.Sqrt(2)))
		})
		it("skips branches whose stored scores are below the results kept so far", func(ctx ginkgo.SpecContext) {
			// "a" would rank first (exact match) but its branch is pruned
			// once "b" fills the single slot.
			key := p + "dict"
			add(ctx, key, 2, sugOf("b", 10), sugOf("a", 1))
			got, err := s.SugGet(ctx, key, "a", sugFuzzyScored(1))
			expectSugs(got, err, sugOf("b", 10*sugFuzzy1))
			got, err = s.SugGet(ctx, key, "a", sugFuzzyScored(2))
			expectSugs(got, err, sugOf("a", sugExact), sugOf("b", 10*sugFuzzy1))
		})
	})
}

// describeNoModule registers the specs of a backend whose server lacks
// the RediSearch module (Features.NoModule).
func describeNoModule(f Features) {
	var s ports.Store
	ginkgo.BeforeEach(func() {
		if f.NoModule == nil {
			ginkgo.Skip("backend has no variant without the module (Features.NoModule is nil)")
		}
		s = setup(context.Background(), f.NoModule).Store
	})
	for _, c := range suggestCalls {
		it(c.name+" fails with ErrNotSupported naming RediSearch", func(ctx ginkgo.SpecContext) {
			err := c.call(ctx, s, Prefix()+"dict")
			gomega.Expect(err).To(gomega.MatchError(domain.ErrNotSupported))
			gomega.Expect(err.Error()).To(gomega.ContainSubstring("RediSearch"))
		})
	}
}
