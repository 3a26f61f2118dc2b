package conformance

import (
	"context"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// rangeCases are (start, stop) pairs over the list a b c d e and what
// LRANGE / LTRIM keep, following Redis: negative indexes count from the
// tail, ranges are inclusive and clamped, an empty range keeps nothing.
var rangeCases = []struct {
	name        string
	start, stop int64
	want        []string
}{
	{"the whole list", 0, -1, []string{"a", "b", "c", "d", "e"}},
	{"the head", 0, 0, []string{"a"}},
	{"the tail", -1, -1, []string{"e"}},
	{"the last two", -2, -1, []string{"d", "e"}},
	{"a middle slice", 1, 3, []string{"b", "c", "d"}},
	{"a slice with mixed signs", 1, -2, []string{"b", "c", "d"}},
	{"a negative start before a positive stop", -3, 2, []string{"c"}},
	{"a stop counted from the tail reaching the head", 0, -5, []string{"a"}},
	{"clamped bounds on both sides", -100, 100, []string{"a", "b", "c", "d", "e"}},
	{"a stop clamped to the tail", 3, 100, []string{"d", "e"}},
	{"a start clamped to the head", -100, 1, []string{"a", "b"}},
	{"a start past the tail (empty)", 5, 10, nil},
	{"a start after the stop (empty)", 3, 1, nil},
	{"a stop before the head (empty)", 0, -6, nil},
	{"a range wholly before the head (empty)", -100, -6, nil},
}

func describeList(newBackend Factory, _ Features) {
	var (
		b Backend
		s ports.Store
		p string
	)
	ginkgo.BeforeEach(func() {
		b = setup(context.Background(), newBackend)
		s = b.Store
		p = Prefix()
	})

	abcde := func(ctx context.Context, key string) {
		ginkgo.GinkgoHelper()
		gomega.Expect(s.RPush(ctx, key, "a", "b", "c", "d", "e")).To(gomega.Equal(int64(5)))
	}

	ginkgo.Describe("LPush and RPush", func() {
		it("LPush prepends one by one, so the last value ends up first", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.LPush(ctx, p+"l", "a", "b", "c")).To(gomega.Equal(int64(3)))
			gomega.Expect(s.LRange(ctx, p+"l", 0, -1)).To(gomega.Equal([]string{"c", "b", "a"}))
			gomega.Expect(s.LPush(ctx, p+"l", "d")).To(gomega.Equal(int64(4)))
			gomega.Expect(s.LRange(ctx, p+"l", 0, -1)).To(gomega.Equal([]string{"d", "c", "b", "a"}))
		})
		it("RPush appends in order", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.RPush(ctx, p+"l", "a", "b")).To(gomega.Equal(int64(2)))
			gomega.Expect(s.RPush(ctx, p+"l", "c")).To(gomega.Equal(int64(3)))
			gomega.Expect(s.LRange(ctx, p+"l", 0, -1)).To(gomega.Equal([]string{"a", "b", "c"}))
		})
		it("LPush and RPush work on the same list", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.RPush(ctx, p+"l", "m")).To(gomega.Equal(int64(1)))
			gomega.Expect(s.LPush(ctx, p+"l", "h")).To(gomega.Equal(int64(2)))
			gomega.Expect(s.RPush(ctx, p+"l", "t")).To(gomega.Equal(int64(3)))
			gomega.Expect(s.LRange(ctx, p+"l", 0, -1)).To(gomega.Equal([]string{"h", "m", "t"}))
		})
		it("keeps duplicates, empty and binary values", func(ctx ginkgo.SpecContext) {
			bin := string(allBytes())
			gomega.Expect(s.RPush(ctx, p+"l", "x", "", bin, "x")).To(gomega.Equal(int64(4)))
			gomega.Expect(s.LRange(ctx, p+"l", 0, -1)).To(gomega.Equal([]string{"x", "", bin, "x"}))
		})
	})

	ginkgo.Describe("LPop and RPop", func() {
		it("of a missing list fail with ErrNotFound", func(ctx ginkgo.SpecContext) {
			_, err := s.LPop(ctx, p+"missing")
			gomega.Expect(err).To(gomega.MatchError(domain.ErrNotFound))
			_, err = s.RPop(ctx, p+"missing")
			gomega.Expect(err).To(gomega.MatchError(domain.ErrNotFound))
		})
		it("remove the head and the tail; popping the last element removes the key", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.RPush(ctx, p+"l", "a", "b", "c")).To(gomega.Equal(int64(3)))
			gomega.Expect(s.LPop(ctx, p+"l")).To(gomega.Equal("a"))
			gomega.Expect(s.RPop(ctx, p+"l")).To(gomega.Equal("c"))
			gomega.Expect(s.LLen(ctx, p+"l")).To(gomega.Equal(int64(1)))
			gomega.Expect(s.RPop(ctx, p+"l")).To(gomega.Equal("b"))
			gomega.Expect(s.Exists(ctx, p+"l")).To(gomega.Equal(int64(0)))
			_, err := s.LPop(ctx, p+"l")
			gomega.Expect(err).To(gomega.MatchError(domain.ErrNotFound))
			_, err = s.RPop(ctx, p+"l")
			gomega.Expect(err).To(gomega.MatchError(domain.ErrNotFound))
		})
		it("return an empty element as an empty string, not ErrNotFound", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.RPush(ctx, p+"l", "", "")).To(gomega.Equal(int64(2)))
			gomega.Expect(s.LPop(ctx, p+"l")).To(gomega.Equal(""))
			gomega.Expect(s.RPop(ctx, p+"l")).To(gomega.Equal(""))
		})
	})

	ginkgo.Describe("LLen", func() {
		it("of a missing list is 0", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.LLen(ctx, p+"missing")).To(gomega.Equal(int64(0)))
		})
		it("counts the elements", func(ctx ginkgo.SpecContext) {
			abcde(ctx, p+"l")
			gomega.Expect(s.LLen(ctx, p+"l")).To(gomega.Equal(int64(5)))
		})
	})

	ginkgo.Describe("LRange", func() {
		it("of a missing list is empty", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.LRange(ctx, p+"missing", 0, -1)).To(gomega.BeEmpty())
		})
		for _, c := range rangeCases {
			it("returns "+c.name, func(ctx ginkgo.SpecContext) {
				abcde(ctx, p+"l")
				got, err := s.LRange(ctx, p+"l", c.start, c.stop)
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				if c.want == nil {
					gomega.Expect(got).To(gomega.BeEmpty(), "LRange(%d, %d)", c.start, c.stop)
				} else {
					gomega.Expect(got).To(gomega.Equal(c.want), "LRange(%d, %d)", c.start, c.stop)
				}
				gomega.Expect(s.LLen(ctx, p+"l")).To(gomega.Equal(int64(5)), "LRange changed the list")
			})
		}
	})

	ginkgo.Describe("LTrim", func() {
		for _, c := range rangeCases {
			it("keeps "+c.name, func(ctx ginkgo.SpecContext) {
				abcde(ctx, p+"l")
				gomega.Expect(s.LTrim(ctx, p+"l", c.start, c.stop)).To(gomega.Succeed())
				if c.want == nil {
					gomega.Expect(s.Exists(ctx, p+"l")).To(gomega.Equal(int64(0)),
						"LTrim(%d, %d) emptied the list, so the key must be gone", c.start, c.stop)
					gomega.Expect(s.LRange(ctx, p+"l", 0, -1)).To(gomega.BeEmpty())
					return
				}
				gomega.Expect(s.LRange(ctx, p+"l", 0, -1)).To(gomega.Equal(c.want), "LTrim(%d, %d)", c.start, c.stop)
				gomega.Expect(s.LLen(ctx, p+"l")).To(gomega.Equal(int64(len(c.want))))
			})
		}
		it("of a missing list succeeds and creates nothing", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.LTrim(ctx, p+"missing", 0, -1)).To(gomega.Succeed())
			gomega.Expect(s.Exists(ctx, p+"missing")).To(gomega.Equal(int64(0)))
		})
	})
}
