package conformance

import (
	"context"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

func describeSet(newBackend Factory, _ Features) {
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

	five := []string{"a", "b", "c", "d", "e"}
	addFive := func(ctx context.Context, key string) {
		ginkgo.GinkgoHelper()
		gomega.Expect(s.SAdd(ctx, key, five...)).To(gomega.Equal(int64(5)))
	}

	ginkgo.Describe("SAdd and SMembers", func() {
		it("SMembers of a missing set is empty", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.SMembers(ctx, p+"missing")).To(gomega.BeEmpty())
		})
		it("SAdd counts only new members", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.SAdd(ctx, p+"s", "a", "b", "a")).To(gomega.Equal(int64(2)))
			gomega.Expect(s.SAdd(ctx, p+"s", "b", "c")).To(gomega.Equal(int64(1)))
			gomega.Expect(s.SAdd(ctx, p+"s", "a")).To(gomega.Equal(int64(0)))
			gomega.Expect(s.SMembers(ctx, p+"s")).To(gomega.ConsistOf("a", "b", "c"))
		})
		it("members are binary-safe and may be empty", func(ctx ginkgo.SpecContext) {
			bin := string(allBytes())
			gomega.Expect(s.SAdd(ctx, p+"s", bin, "")).To(gomega.Equal(int64(2)))
			gomega.Expect(s.SMembers(ctx, p+"s")).To(gomega.ConsistOf(bin, ""))
			gomega.Expect(s.SIsMember(ctx, p+"s", bin)).To(gomega.BeTrue())
			gomega.Expect(s.SIsMember(ctx, p+"s", "")).To(gomega.BeTrue())
		})
	})

	ginkgo.Describe("SIsMember", func() {
		it("reports membership", func(ctx ginkgo.SpecContext) {
			addFive(ctx, p+"s")
			gomega.Expect(s.SIsMember(ctx, p+"s", "c")).To(gomega.BeTrue())
			gomega.Expect(s.SIsMember(ctx, p+"s", "z")).To(gomega.BeFalse())
		})
		it("of a missing set is false", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.SIsMember(ctx, p+"missing", "a")).To(gomega.BeFalse())
		})
	})

	ginkgo.Describe("SRem", func() {
		it("counts only the members that were present", func(ctx ginkgo.SpecContext) {
			addFive(ctx, p+"s")
			gomega.Expect(s.SRem(ctx, p+"s", "a", "z", "b")).To(gomega.Equal(int64(2)))
			gomega.Expect(s.SMembers(ctx, p+"s")).To(gomega.ConsistOf("c", "d", "e"))
		})
		it("of a missing set returns 0", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.SRem(ctx, p+"missing", "a")).To(gomega.Equal(int64(0)))
		})
		it("of the last member removes the key", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.SAdd(ctx, p+"s", "a", "b")).To(gomega.Equal(int64(2)))
			gomega.Expect(s.SRem(ctx, p+"s", "a")).To(gomega.Equal(int64(1)))
			gomega.Expect(s.Exists(ctx, p+"s")).To(gomega.Equal(int64(1)))
			gomega.Expect(s.SRem(ctx, p+"s", "b")).To(gomega.Equal(int64(1)))
			gomega.Expect(s.Exists(ctx, p+"s")).To(gomega.Equal(int64(0)))
			gomega.Expect(s.Set(ctx, p+"s", []byte("free again"), 0)).To(gomega.Succeed())
			gomega.Expect(s.TTL(ctx, p+"s")).To(gomega.BeZero())
		})
	})

	ginkgo.Describe("SPop", func() {
		it("of a missing set fails with ErrNotFound", func(ctx ginkgo.SpecContext) {
			_, err := s.SPop(ctx, p+"missing")
			gomega.Expect(err).To(gomega.MatchError(domain.ErrNotFound))
		})
		it("removes and returns members until the set is gone", func(ctx ginkgo.SpecContext) {
			addFive(ctx, p+"s")
			var popped []string
			for range five {
				m, err := s.SPop(ctx, p+"s")
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				gomega.Expect(s.SIsMember(ctx, p+"s", m)).To(gomega.BeFalse(), "popped %q is still a member", m)
				popped = append(popped, m)
			}
			gomega.Expect(popped).To(gomega.ConsistOf(five))
			gomega.Expect(s.Exists(ctx, p+"s")).To(gomega.Equal(int64(0)))
			_, err := s.SPop(ctx, p+"s")
			gomega.Expect(err).To(gomega.MatchError(domain.ErrNotFound))
		})
	})

	ginkgo.Describe("SRandMember", func() {
		it("with a positive count below the size returns that many distinct members", func(ctx ginkgo.SpecContext) {
			addFive(ctx, p+"s")
			got, err := s.SRandMember(ctx, p+"s", 3)
			gomega.Expect(err).NotTo(gomega.HaveOccurred())
			gomega.Expect(got).To(gomega.HaveLen(3))
			gomega.Expect(got).To(gomega.HaveEach(gomega.BeElementOf(five)))
			gomega.Expect(distinct(got)).To(gomega.HaveLen(3), "members repeat: %v", got)
		})
		it("with a positive count at or above the size returns every member once", func(ctx ginkgo.SpecContext) {
			addFive(ctx, p+"s")
			gomega.Expect(s.SRandMember(ctx, p+"s", 5)).To(gomega.ConsistOf(five))
			gomega.Expect(s.SRandMember(ctx, p+"s", 50)).To(gomega.ConsistOf(five))
		})
		it("with a negative count returns exactly -count members, which may repeat", func(ctx ginkgo.SpecContext) {
			addFive(ctx, p+"s")
			got, err := s.SRandMember(ctx, p+"s", -20)
			gomega.Expect(err).NotTo(gomega.HaveOccurred())
			gomega.Expect(got).To(gomega.HaveLen(20))
			gomega.Expect(got).To(gomega.HaveEach(gomega.BeElementOf(five)))

			gomega.Expect(s.SAdd(ctx, p+"one", "only")).To(gomega.Equal(int64(1)))
			gomega.Expect(s.SRandMember(ctx, p+"one", -4)).To(gomega.Equal([]string{"only", "only", "only", "only"}))
			gomega.Expect(s.SRandMember(ctx, p+"one", -1)).To(gomega.Equal([]string{"only"}))
		})
		it("with count 0 returns nothing", func(ctx ginkgo.SpecContext) {
			addFive(ctx, p+"s")
			gomega.Expect(s.SRandMember(ctx, p+"s", 0)).To(gomega.BeEmpty())
		})
		it("of a missing set is empty for any count", func(ctx ginkgo.SpecContext) {
			for _, n := range []int{3, -3, 0} {
				gomega.Expect(s.SRandMember(ctx, p+"missing", n)).To(gomega.BeEmpty(), "count %d", n)
			}
		})
		it("removes nothing", func(ctx ginkgo.SpecContext) {
			addFive(ctx, p+"s")
			for _, n := range []int{1, 5, -7} {
				_, err := s.SRandMember(ctx, p+"s", n)
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
			}
			gomega.Expect(s.SMembers(ctx, p+"s")).To(gomega.ConsistOf(five))
		})
		it("picks members at random", func(ctx ginkgo.SpecContext) {
			addFive(ctx, p+"s")
			seen := map[string]bool{}
			// 100 draws of one member out of five: the chance that one
			// uniform draw sequence hits a single member is 5*(1/5)^100.
			for range 100 {
				got, err := s.SRandMember(ctx, p+"s", 1)
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				gomega.Expect(got).To(gomega.HaveLen(1))
				seen[got[0]] = true
			}
			gomega.Expect(len(seen)).To(gomega.BeNumerically(">", 1), "SRandMember(1) always returned %v", seen)
		})
	})
}

func distinct(xs []string) map[string]struct{} {
	m := make(map[string]struct{}, len(xs))
	for _, x := range xs {
		m[x] = struct{}{}
	}
	return m
}
