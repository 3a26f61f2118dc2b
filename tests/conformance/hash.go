package conformance

import (
	"context"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

func describeHash(newBackend Factory, _ Features) {
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

	// hset stores fields (name, value, name, value...) in key.
	hset := func(ctx context.Context, key string, kv ...string) {
		ginkgo.GinkgoHelper()
		for i := 0; i < len(kv); i += 2 {
			gomega.Expect(s.HSet(ctx, key, kv[i], []byte(kv[i+1]))).To(gomega.Succeed())
		}
	}

	ginkgo.Describe("HSet and HGet", func() {
		it("HGet of a missing hash fails with ErrNotFound", func(ctx ginkgo.SpecContext) {
			_, err := s.HGet(ctx, p+"missing", "f")
			gomega.Expect(err).To(gomega.MatchError(domain.ErrNotFound))
		})
		it("HGet of a missing field fails with ErrNotFound", func(ctx ginkgo.SpecContext) {
			hset(ctx, p+"h", "f", "v")
			_, err := s.HGet(ctx, p+"h", "other")
			gomega.Expect(err).To(gomega.MatchError(domain.ErrNotFound))
		})
		it("HGet returns what HSet stored, field by field", func(ctx ginkgo.SpecContext) {
			hset(ctx, p+"h", "f", "one", "g", "two")
			gomega.Expect(s.HGet(ctx, p+"h", "f")).To(gomega.Equal([]byte("one")))
			gomega.Expect(s.HGet(ctx, p+"h", "g")).To(gomega.Equal([]byte("two")))
		})
		it("HSet replaces the value of a field", func(ctx ginkgo.SpecContext) {
			hset(ctx, p+"h", "f", "one", "f", "two")
			gomega.Expect(s.HGet(ctx, p+"h", "f")).To(gomega.Equal([]byte("two")))
			gomega.Expect(s.HKeys(ctx, p+"h")).To(gomega.ConsistOf("f"))
		})
		it("values are binary-safe, and may be empty or nil", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.HSet(ctx, p+"h", "all", allBytes())).To(gomega.Succeed())
			gomega.Expect(s.HSet(ctx, p+"h", "empty", []byte{})).To(gomega.Succeed())
			gomega.Expect(s.HSet(ctx, p+"h", "nil", nil)).To(gomega.Succeed())
			gomega.Expect(s.HGet(ctx, p+"h", "all")).To(gomega.Equal(allBytes()))
			gomega.Expect(s.HGet(ctx, p+"h", "empty")).To(gomega.BeEmpty())
			gomega.Expect(s.HGet(ctx, p+"h", "nil")).To(gomega.BeEmpty())
			gomega.Expect(s.HExists(ctx, p+"h", "nil")).To(gomega.BeTrue())
		})
		it("field names are binary-safe", func(ctx ginkgo.SpecContext) {
			field := string(allBytes())
			hset(ctx, p+"h", field, "v")
			gomega.Expect(s.HGet(ctx, p+"h", field)).To(gomega.Equal([]byte("v")))
			gomega.Expect(s.HKeys(ctx, p+"h")).To(gomega.Equal([]string{field}))
		})
		it("HSet keeps no reference to the caller's slice", func(ctx ginkgo.SpecContext) {
			v := []byte("original")
			gomega.Expect(s.HSet(ctx, p+"h", "f", v)).To(gomega.Succeed())
			copy(v, "XXXXXXXX")
			gomega.Expect(s.HGet(ctx, p+"h", "f")).To(gomega.Equal([]byte("original")))
		})
	})

	ginkgo.Describe("HExists", func() {
		it("reports whether the field exists", func(ctx ginkgo.SpecContext) {
			hset(ctx, p+"h", "f", "v")
			gomega.Expect(s.HExists(ctx, p+"h", "f")).To(gomega.BeTrue())
			gomega.Expect(s.HExists(ctx, p+"h", "other")).To(gomega.BeFalse())
		})
		it("of a missing hash is false", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.HExists(ctx, p+"missing", "f")).To(gomega.BeFalse())
		})
	})

	ginkgo.Describe("HGetAll and HKeys", func() {
		it("of a missing hash are empty", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.HGetAll(ctx, p+"missing")).To(gomega.BeEmpty())
			gomega.Expect(s.HKeys(ctx, p+"missing")).To(gomega.BeEmpty())
		})
		it("return every field", func(ctx ginkgo.SpecContext) {
			hset(ctx, p+"h", "a", "1", "b", "2", "c", "")
			gomega.Expect(s.HGetAll(ctx, p+"h")).To(gomega.Equal(map[string][]byte{
				"a": []byte("1"), "b": []byte("2"), "c": {},
			}))
			gomega.Expect(s.HKeys(ctx, p+"h")).To(gomega.ConsistOf("a", "b", "c"))
		})
		it("HGetAll returns binary values intact", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.HSet(ctx, p+"h", "all", allBytes())).To(gomega.Succeed())
			gomega.Expect(s.HGetAll(ctx, p+"h")).To(gomega.Equal(map[string][]byte{"all": allBytes()}))
		})
	})

	ginkgo.Describe("HDel", func() {
		it("counts only the fields that existed", func(ctx ginkgo.SpecContext) {
			hset(ctx, p+"h", "a", "1", "b", "2", "c", "3")
			gomega.Expect(s.HDel(ctx, p+"h", "a", "missing", "b")).To(gomega.Equal(int64(2)))
			gomega.Expect(s.HGetAll(ctx, p+"h")).To(gomega.Equal(map[string][]byte{"c": []byte("3")}))
		})
		it("of a missing hash returns 0", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.HDel(ctx, p+"missing", "f")).To(gomega.Equal(int64(0)))
		})
		it("of the last field removes the key", func(ctx ginkgo.SpecContext) {
			hset(ctx, p+"h", "a", "1", "b", "2")
			gomega.Expect(s.HDel(ctx, p+"h", "a", "b")).To(gomega.Equal(int64(2)))
			gomega.Expect(s.Exists(ctx, p+"h")).To(gomega.Equal(int64(0)))
			_, err := s.TTL(ctx, p+"h")
			gomega.Expect(err).To(gomega.MatchError(domain.ErrNotFound))
			// The key is free for another type.
			gomega.Expect(s.RPush(ctx, p+"h", "x")).To(gomega.Equal(int64(1)))
		})
	})

	ginkgo.Describe("HDelBatch", func() {
		it("removes fields of several hashes, counting only those that existed", func(ctx ginkgo.SpecContext) {
			hset(ctx, p+"h1", "a", "1", "b", "2", "c", "3")
			hset(ctx, p+"h2", "a", "1")
			hset(ctx, p+"h3", "a", "1", "b", "2")
			gomega.Expect(s.HDelBatch(ctx, []ports.HashFields{
				{Key: p + "h1", Fields: []string{"a", "b", "missing"}},
				{Key: p + "missing", Fields: []string{"a"}},
				{Key: p + "h2", Fields: []string{"a"}},
				{Key: p + "h3", Fields: []string{"missing"}},
			})).To(gomega.Equal(int64(3)))
			gomega.Expect(s.HGetAll(ctx, p+"h1")).To(gomega.Equal(map[string][]byte{"c": []byte("3")}))
			gomega.Expect(s.Exists(ctx, p+"h2")).To(gomega.Equal(int64(0)), "removing the last field removes the hash")
			gomega.Expect(s.HKeys(ctx, p+"h3")).To(gomega.ConsistOf("a", "b"))
			gomega.Expect(s.Exists(ctx, p+"missing")).To(gomega.Equal(int64(0)))
		})
		it("with nothing to delete returns 0", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.HDelBatch(ctx, nil)).To(gomega.Equal(int64(0)))
			gomega.Expect(s.HDelBatch(ctx, []ports.HashFields{{Key: p + "missing", Fields: []string{"f"}}})).
				To(gomega.Equal(int64(0)))
		})
		it("names the same hash twice", func(ctx ginkgo.SpecContext) {
			hset(ctx, p+"h", "a", "1", "b", "2", "c", "3")
			gomega.Expect(s.HDelBatch(ctx, []ports.HashFields{
				{Key: p + "h", Fields: []string{"a"}},
				{Key: p + "h", Fields: []string{"b", "a"}},
			})).To(gomega.Equal(int64(2)))
			gomega.Expect(s.HKeys(ctx, p+"h")).To(gomega.ConsistOf("c"))
		})
		it("does not stop at a wrong-type key and then fails with ErrWrongType", func(ctx ginkgo.SpecContext) {
			hset(ctx, p+"h1", "a", "1", "b", "2")
			hset(ctx, p+"h2", "a", "1")
			populate(ctx, s, p+"str", kindString)
			populate(ctx, s, p+"list", kindList)
			_, err := s.HDelBatch(ctx, []ports.HashFields{
				{Key: p + "str", Fields: []string{"a"}},
				{Key: p + "h1", Fields: []string{"a"}},
				{Key: p + "missing", Fields: []string{"a"}},
				{Key: p + "list", Fields: []string{"a"}},
				{Key: p + "h2", Fields: []string{"a"}},
			})
			gomega.Expect(err).To(gomega.MatchError(domain.ErrWrongType))
			gomega.Expect(s.HKeys(ctx, p+"h1")).To(gomega.ConsistOf("b"), "hash after the wrong-type key")
			gomega.Expect(s.Exists(ctx, p+"h2")).To(gomega.Equal(int64(0)), "hash after the wrong-type key")
			expectIntact(ctx, s, p+"str", kindString)
			expectIntact(ctx, s, p+"list", kindList)
		})
	})
}
