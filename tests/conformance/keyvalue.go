package conformance

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// scan collects every key Scan reports, duplicates included.
func scan(ctx context.Context, s ports.Store, pattern string, batch int) ([]string, error) {
	var got []string
	err := s.Scan(ctx, pattern, batch, func(keys []string) error {
		got = append(got, keys...)
		return nil
	})
	return got, err
}

// scanAll is scan for specs that expect no error, with each key once: the
// port lets Scan report a key again in a later batch (as Redis SCAN does
// when its table is resized during the scan).
func scanAll(ctx context.Context, s ports.Store, pattern string, batch int) []string {
	ginkgo.GinkgoHelper()
	got, err := scan(ctx, s, pattern, batch)
	gomega.Expect(err).NotTo(gomega.HaveOccurred())
	slices.Sort(got)
	return slices.Compact(got)
}

// globKeys are the names (after the spec's prefix) the Scan specs store:
// glob characters in key names must be matched literally when escaped.
var globKeys = []string{
	"a", "b", "c", "d", "ab", "abc",
	"x*y", "x?y", "x[y]", `x\y`, "xzy",
}

// globCases maps a pattern (after the escaped prefix) to the names it
// matches, following Redis' stringmatchlen.
var globCases = []struct {
	pattern string
	want    []string
}{
	{"*", append(append([]string{}, globKeys...), "type-hash", "type-set", "type-list")},
	{"?", []string{"a", "b", "c", "d"}},
	{"[abc]", []string{"a", "b", "c"}},
	{"[^a]", []string{"b", "c", "d"}},
	{"[a-c]", []string{"a", "b", "c"}},
	{"a*", []string{"a", "ab", "abc"}},
	{"a?", []string{"ab"}},
	{"a?c", []string{"abc"}},
	{`x\*y`, []string{"x*y"}},
	{`x\?y`, []string{"x?y"}},
	{`x\[y\]`, []string{"x[y]"}},
	{`x\\y`, []string{`x\y`}},
	{"x?y", []string{"x*y", "x?y", `x\y`, "xzy"}},
	{"x*", []string{"x*y", "x?y", "x[y]", `x\y`, "xzy"}},
	{"*y", []string{"x*y", "x?y", `x\y`, "xzy"}},
	{"x[*?]y", []string{"x*y", "x?y"}},
	{`*\]`, []string{"x[y]"}},
	{"type-*", []string{"type-hash", "type-set", "type-list"}},
	{"nothing*", nil},
}

func describeKeyValue(newBackend Factory, _ Features) {
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

	ginkgo.Describe("Get and Set", func() {
		it("Get of a missing key fails with ErrNotFound", func(ctx ginkgo.SpecContext) {
			_, err := s.Get(ctx, p+"missing")
			gomega.Expect(err).To(gomega.MatchError(domain.ErrNotFound))
		})
		it("Get returns what Set stored", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.Set(ctx, p+"k", []byte("hello"), 0)).To(gomega.Succeed())
			gomega.Expect(s.Get(ctx, p+"k")).To(gomega.Equal([]byte("hello")))
		})
		it("Set replaces the value", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.Set(ctx, p+"k", []byte("one"), 0)).To(gomega.Succeed())
			gomega.Expect(s.Set(ctx, p+"k", []byte("two"), 0)).To(gomega.Succeed())
			gomega.Expect(s.Get(ctx, p+"k")).To(gomega.Equal([]byte("two")))
		})
		it("Set of a nil value stores an empty string", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.Set(ctx, p+"k", nil, 0)).To(gomega.Succeed())
			gomega.Expect(s.Get(ctx, p+"k")).To(gomega.BeEmpty())
			gomega.Expect(s.Exists(ctx, p+"k")).To(gomega.Equal(int64(1)))
		})
		it("Set of an empty value stores an empty string", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.Set(ctx, p+"k", []byte{}, 0)).To(gomega.Succeed())
			gomega.Expect(s.Get(ctx, p+"k")).To(gomega.BeEmpty())
			gomega.Expect(s.Exists(ctx, p+"k")).To(gomega.Equal(int64(1)))
		})
		it("values are binary-safe: all 256 byte values", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.Set(ctx, p+"k", allBytes(), 0)).To(gomega.Succeed())
			gomega.Expect(s.Get(ctx, p+"k")).To(gomega.Equal(allBytes()))
		})
		it("Set does not keep a reference to the caller's slice", func(ctx ginkgo.SpecContext) {
			v := []byte("original")
			gomega.Expect(s.Set(ctx, p+"k", v, 0)).To(gomega.Succeed())
			copy(v, "XXXXXXXX")
			got, err := s.Get(ctx, p+"k")
			gomega.Expect(err).NotTo(gomega.HaveOccurred())
			gomega.Expect(got).To(gomega.Equal([]byte("original")))
			copy(got, "YYYYYYYY")
			gomega.Expect(s.Get(ctx, p+"k")).To(gomega.Equal([]byte("original")))
		})
		it("keys are binary-safe", func(ctx ginkgo.SpecContext) {
			k1 := p + "\x00\n\r \xff|é"
			k2 := p + "\x00\n\r \xff|e"
			gomega.Expect(s.Set(ctx, k1, []byte("1"), 0)).To(gomega.Succeed())
			gomega.Expect(s.Set(ctx, k2, []byte("2"), 0)).To(gomega.Succeed())
			gomega.Expect(s.Get(ctx, k1)).To(gomega.Equal([]byte("1")))
			gomega.Expect(s.Get(ctx, k2)).To(gomega.Equal([]byte("2")))
		})
		it("stores a 1 MiB value", func(ctx ginkgo.SpecContext) {
			v := make([]byte, 1<<20)
			for i := range v {
				v[i] = byte(i*7 + i>>8)
			}
			gomega.Expect(s.Set(ctx, p+"big", v, 0)).To(gomega.Succeed())
			got, err := s.Get(ctx, p+"big")
			gomega.Expect(err).NotTo(gomega.HaveOccurred())
			gomega.Expect(got).To(gomega.HaveLen(len(v)))
			gomega.Expect(got).To(gomega.Equal(v))
			gomega.Expect(s.Del(ctx, p+"big")).To(gomega.Equal(int64(1)))
		})
		it("Set replaces a key of any other type", func(ctx ginkgo.SpecContext) {
			for _, k := range []kind{kindHash, kindSet, kindList} {
				key := p + k.String()
				populate(ctx, s, key, k)
				gomega.Expect(s.Set(ctx, key, []byte("now a string"), 0)).To(gomega.Succeed(), "over a %s", k)
				gomega.Expect(s.Get(ctx, key)).To(gomega.Equal([]byte("now a string")), "over a %s", k)
			}
			_, err := s.HGet(ctx, p+"hash", "f")
			gomega.Expect(err).To(gomega.MatchError(domain.ErrWrongType))
			_, err = s.SMembers(ctx, p+"set")
			gomega.Expect(err).To(gomega.MatchError(domain.ErrWrongType))
			_, err = s.LLen(ctx, p+"list")
			gomega.Expect(err).To(gomega.MatchError(domain.ErrWrongType))
		})
		it("Set without ttl clears the ttl of the replaced key", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.Set(ctx, p+"k", []byte("v"), time.Hour)).To(gomega.Succeed())
			gomega.Expect(s.Set(ctx, p+"k", []byte("w"), 0)).To(gomega.Succeed())
			gomega.Expect(s.TTL(ctx, p+"k")).To(gomega.Equal(time.Duration(0)))
		})
		it("Set over a collection with a ttl clears that ttl", func(ctx ginkgo.SpecContext) {
			populate(ctx, s, p+"h", kindHash)
			gomega.Expect(s.Expire(ctx, p+"h", time.Hour)).To(gomega.BeTrue())
			gomega.Expect(s.Set(ctx, p+"h", []byte("w"), 0)).To(gomega.Succeed())
			gomega.Expect(s.TTL(ctx, p+"h")).To(gomega.Equal(time.Duration(0)))
		})
		it("Set with a ttl gives the key that lifetime", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.Set(ctx, p+"k", []byte("v"), 10*time.Second)).To(gomega.Succeed())
			ttl, err := s.TTL(ctx, p+"k")
			gomega.Expect(err).NotTo(gomega.HaveOccurred())
			gomega.Expect(ttl).To(gomega.BeNumerically(">", 8*time.Second))
			gomega.Expect(ttl).To(gomega.BeNumerically("<=", 10*time.Second))
		})
		it("Set with a ttl over a persistent key adds the ttl", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.Set(ctx, p+"k", []byte("v"), 0)).To(gomega.Succeed())
			gomega.Expect(s.Set(ctx, p+"k", []byte("w"), time.Hour)).To(gomega.Succeed())
			gomega.Expect(s.TTL(ctx, p+"k")).To(gomega.BeNumerically(">", 59*time.Minute))
		})
		it("Set with a negative ttl fails with ErrInvalidArgument and writes nothing", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.Set(ctx, p+"new", []byte("v"), -time.Second)).To(gomega.MatchError(domain.ErrInvalidArgument))
			gomega.Expect(s.Exists(ctx, p+"new")).To(gomega.Equal(int64(0)))
			populate(ctx, s, p+"old", kindString)
			gomega.Expect(s.Set(ctx, p+"old", []byte("w"), -time.Second)).To(gomega.MatchError(domain.ErrInvalidArgument))
			expectIntact(ctx, s, p+"old", kindString)
			gomega.Expect(s.TTL(ctx, p+"old")).To(gomega.Equal(time.Duration(0)))
		})
		it("Set with a positive ttl below one millisecond fails with ErrInvalidArgument", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.Set(ctx, p+"k", []byte("v"), 500*time.Microsecond)).To(gomega.MatchError(domain.ErrInvalidArgument))
			gomega.Expect(s.Exists(ctx, p+"k")).To(gomega.Equal(int64(0)))
		})
	})

	ginkgo.Describe("expiry", func() {
		it("a key with a 50ms ttl disappears from Get", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.Set(ctx, p+"k", []byte("v"), shortTTL)).To(gomega.Succeed())
			gomega.Eventually(ctx, func() error {
				_, err := s.Get(ctx, p+"k")
				return err
			}).WithTimeout(expiryTimeout).Should(gomega.MatchError(domain.ErrNotFound))
		})
		it("a key with a 50ms ttl disappears from Exists", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.Set(ctx, p+"k", []byte("v"), shortTTL)).To(gomega.Succeed())
			gomega.Expect(s.Set(ctx, p+"stays", []byte("v"), 0)).To(gomega.Succeed())
			gomega.Eventually(ctx, func() (int64, error) {
				return s.Exists(ctx, p+"k")
			}).WithTimeout(expiryTimeout).Should(gomega.BeZero())
			gomega.Expect(s.Exists(ctx, p+"stays")).To(gomega.Equal(int64(1)))
		})
		it("a key with a 50ms ttl disappears from TTL, which stays at least 1ms until then", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.Set(ctx, p+"k", []byte("v"), shortTTL)).To(gomega.Succeed())
			var seen []time.Duration
			gomega.Eventually(ctx, func() error {
				ttl, err := s.TTL(ctx, p+"k")
				if err == nil {
					seen = append(seen, ttl)
				}
				return err
			}).WithTimeout(expiryTimeout).WithPolling(time.Millisecond).Should(gomega.MatchError(domain.ErrNotFound))
			gomega.Expect(seen).NotTo(gomega.BeEmpty(), "TTL never saw the key alive")
			gomega.Expect(seen).To(gomega.HaveEach(gomega.BeNumerically(">=", time.Millisecond)))
			gomega.Expect(seen).To(gomega.HaveEach(gomega.BeNumerically("<=", shortTTL)))
		})
		it("a key with a 50ms ttl disappears from Scan", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.Set(ctx, p+"k", []byte("v"), shortTTL)).To(gomega.Succeed())
			gomega.Expect(s.Set(ctx, p+"stays", []byte("v"), 0)).To(gomega.Succeed())
			gomega.Eventually(ctx, func() ([]string, error) {
				return scan(ctx, s, domain.EscapeGlob(p)+"*", 0)
			}).WithTimeout(expiryTimeout).Should(gomega.Equal([]string{p + "stays"}))
		})
		it("a collection with a 50ms ttl disappears", func(ctx ginkgo.SpecContext) {
			for _, k := range []kind{kindHash, kindSet, kindList} {
				populate(ctx, s, p+k.String(), k)
				gomega.Expect(s.Expire(ctx, p+k.String(), shortTTL)).To(gomega.BeTrue())
			}
			gomega.Eventually(ctx, func() (int, error) {
				h, err := s.HGetAll(ctx, p+"hash")
				return len(h), err
			}).WithTimeout(expiryTimeout).Should(gomega.BeZero())
			gomega.Eventually(ctx, func() ([]string, error) {
				return s.SMembers(ctx, p+"set")
			}).WithTimeout(expiryTimeout).Should(gomega.BeEmpty())
			gomega.Eventually(ctx, func() (int64, error) {
				return s.LLen(ctx, p+"list")
			}).WithTimeout(expiryTimeout).Should(gomega.BeZero())
		})
		it("an expired key can be set again without its old ttl", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.Set(ctx, p+"k", []byte("v"), shortTTL)).To(gomega.Succeed())
			gomega.Eventually(ctx, func() (int64, error) {
				return s.Exists(ctx, p+"k")
			}).WithTimeout(expiryTimeout).Should(gomega.BeZero())
			gomega.Expect(s.RPush(ctx, p+"k", "a")).To(gomega.Equal(int64(1)))
			gomega.Expect(s.TTL(ctx, p+"k")).To(gomega.Equal(time.Duration(0)))
		})
	})

	ginkgo.Describe("Del", func() {
		it("counts only the keys that existed", func(ctx ginkgo.SpecContext) {
			populate(ctx, s, p+"a", kindString)
			populate(ctx, s, p+"b", kindString)
			gomega.Expect(s.Del(ctx, p+"a", p+"missing", p+"b")).To(gomega.Equal(int64(2)))
			gomega.Expect(s.Exists(ctx, p+"a", p+"b")).To(gomega.Equal(int64(0)))
			gomega.Expect(s.Del(ctx, p+"a", p+"b")).To(gomega.Equal(int64(0)))
		})
		it("of a missing key returns 0", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.Del(ctx, p+"missing")).To(gomega.Equal(int64(0)))
		})
		it("with no keys is a no-op returning 0", func(ctx ginkgo.SpecContext) {
			populate(ctx, s, p+"k", kindString)
			gomega.Expect(s.Del(ctx)).To(gomega.Equal(int64(0)))
			expectIntact(ctx, s, p+"k", kindString)
		})
		it("removes keys of every type", func(ctx ginkgo.SpecContext) {
			keys := make([]string, 0, len(typedKinds))
			for _, k := range typedKinds {
				populate(ctx, s, p+k.String(), k)
				keys = append(keys, p+k.String())
			}
			gomega.Expect(s.Del(ctx, keys...)).To(gomega.Equal(int64(len(keys))))
			gomega.Expect(s.Exists(ctx, keys...)).To(gomega.Equal(int64(0)))
			_, err := s.Get(ctx, p+"string")
			gomega.Expect(err).To(gomega.MatchError(domain.ErrNotFound))
			gomega.Expect(s.HGetAll(ctx, p+"hash")).To(gomega.BeEmpty())
			gomega.Expect(s.SMembers(ctx, p+"set")).To(gomega.BeEmpty())
			gomega.Expect(s.LRange(ctx, p+"list", 0, -1)).To(gomega.BeEmpty())
		})
		it("leaves other keys alone", func(ctx ginkgo.SpecContext) {
			populate(ctx, s, p+"a", kindString)
			populate(ctx, s, p+"b", kindString)
			gomega.Expect(s.Del(ctx, p+"a")).To(gomega.Equal(int64(1)))
			expectIntact(ctx, s, p+"b", kindString)
		})
	})

	ginkgo.Describe("Exists", func() {
		it("counts existing keys, a key named twice twice", func(ctx ginkgo.SpecContext) {
			populate(ctx, s, p+"a", kindString)
			populate(ctx, s, p+"b", kindString)
			gomega.Expect(s.Exists(ctx, p+"a", p+"a", p+"missing", p+"b")).To(gomega.Equal(int64(3)))
		})
		it("of a missing key returns 0", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.Exists(ctx, p+"missing")).To(gomega.Equal(int64(0)))
		})
		it("with no keys returns 0", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.Exists(ctx)).To(gomega.Equal(int64(0)))
		})
		it("counts keys of every type", func(ctx ginkgo.SpecContext) {
			keys := make([]string, 0, len(typedKinds))
			for _, k := range typedKinds {
				populate(ctx, s, p+k.String(), k)
				keys = append(keys, p+k.String())
			}
			gomega.Expect(s.Exists(ctx, keys...)).To(gomega.Equal(int64(len(keys))))
		})
	})

	ginkgo.Describe("Expire and TTL", func() {
		it("TTL of a missing key fails with ErrNotFound", func(ctx ginkgo.SpecContext) {
			_, err := s.TTL(ctx, p+"missing")
			gomega.Expect(err).To(gomega.MatchError(domain.ErrNotFound))
		})
		it("TTL of a persistent key is 0", func(ctx ginkgo.SpecContext) {
			populate(ctx, s, p+"k", kindString)
			gomega.Expect(s.TTL(ctx, p+"k")).To(gomega.Equal(time.Duration(0)))
		})
		it("Expire of a missing key returns false and creates nothing", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.Expire(ctx, p+"missing", time.Minute)).To(gomega.BeFalse())
			gomega.Expect(s.Expire(ctx, p+"missing", 0)).To(gomega.BeFalse())
			gomega.Expect(s.Exists(ctx, p+"missing")).To(gomega.Equal(int64(0)))
		})
		it("Expire sets the ttl of an existing key", func(ctx ginkgo.SpecContext) {
			populate(ctx, s, p+"k", kindString)
			gomega.Expect(s.Expire(ctx, p+"k", 10*time.Second)).To(gomega.BeTrue())
			ttl, err := s.TTL(ctx, p+"k")
			gomega.Expect(err).NotTo(gomega.HaveOccurred())
			gomega.Expect(ttl).To(gomega.BeNumerically(">", 8*time.Second))
			gomega.Expect(ttl).To(gomega.BeNumerically("<=", 10*time.Second))
			expectIntact(ctx, s, p+"k", kindString)
		})
		it("Expire replaces an existing ttl", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.Set(ctx, p+"k", []byte("v"), time.Hour)).To(gomega.Succeed())
			gomega.Expect(s.Expire(ctx, p+"k", 10*time.Second)).To(gomega.BeTrue())
			gomega.Expect(s.TTL(ctx, p+"k")).To(gomega.BeNumerically("<=", 10*time.Second))
		})
		it("Expire 0 removes the ttl and reports that there was one", func(ctx ginkgo.SpecContext) {
			gomega.Expect(s.Set(ctx, p+"k", []byte("v"), time.Hour)).To(gomega.Succeed())
			gomega.Expect(s.Expire(ctx, p+"k", 0)).To(gomega.BeTrue())
			gomega.Expect(s.TTL(ctx, p+"k")).To(gomega.Equal(time.Duration(0)))
			gomega.Expect(s.Get(ctx, p+"k")).To(gomega.Equal([]byte("v")))
		})
		it("Expire 0 of a persistent key returns false and keeps it", func(ctx ginkgo.SpecContext) {
			populate(ctx, s, p+"k", kindString)
			gomega.Expect(s.Expire(ctx, p+"k", 0)).To(gomega.BeFalse())
			expectIntact(ctx, s, p+"k", kindString)
			gomega.Expect(s.TTL(ctx, p+"k")).To(gomega.Equal(time.Duration(0)))
		})
		it("Expire with a negative ttl fails with ErrInvalidArgument and changes nothing", func(ctx ginkgo.SpecContext) {
			populate(ctx, s, p+"k", kindString)
			_, err := s.Expire(ctx, p+"k", -time.Second)
			gomega.Expect(err).To(gomega.MatchError(domain.ErrInvalidArgument))
			expectIntact(ctx, s, p+"k", kindString)
			gomega.Expect(s.TTL(ctx, p+"k")).To(gomega.Equal(time.Duration(0)))
		})
		it("Expire with a positive ttl below one millisecond fails with ErrInvalidArgument", func(ctx ginkgo.SpecContext) {
			populate(ctx, s, p+"k", kindString)
			_, err := s.Expire(ctx, p+"k", 500*time.Microsecond)
			gomega.Expect(err).To(gomega.MatchError(domain.ErrInvalidArgument))
			expectIntact(ctx, s, p+"k", kindString)
		})
		it("Expire and TTL work on every type", func(ctx ginkgo.SpecContext) {
			for _, k := range []kind{kindHash, kindSet, kindList} {
				key := p + k.String()
				populate(ctx, s, key, k)
				gomega.Expect(s.TTL(ctx, key)).To(gomega.Equal(time.Duration(0)), "%s", k)
				gomega.Expect(s.Expire(ctx, key, time.Hour)).To(gomega.BeTrue(), "%s", k)
				gomega.Expect(s.TTL(ctx, key)).To(gomega.BeNumerically(">", 59*time.Minute), "%s", k)
				gomega.Expect(s.Expire(ctx, key, 0)).To(gomega.BeTrue(), "%s", k)
				gomega.Expect(s.TTL(ctx, key)).To(gomega.Equal(time.Duration(0)), "%s", k)
				expectIntact(ctx, s, key, k)
			}
		})
		it("a ttl survives writes that do not replace the key", func(ctx ginkgo.SpecContext) {
			populate(ctx, s, p+"h", kindHash)
			gomega.Expect(s.Expire(ctx, p+"h", time.Hour)).To(gomega.BeTrue())
			gomega.Expect(s.HSet(ctx, p+"h", "g", []byte("w"))).To(gomega.Succeed())
			gomega.Expect(s.TTL(ctx, p+"h")).To(gomega.BeNumerically(">", 59*time.Minute))
		})
	})

	ginkgo.Describe("Scan", func() {
		var pattern func(glob string) string
		ginkgo.BeforeEach(func(ctx ginkgo.SpecContext) {
			pattern = func(glob string) string { return domain.EscapeGlob(p) + glob }
			for _, n := range globKeys {
				gomega.Expect(s.Set(ctx, p+n, []byte(n), 0)).To(gomega.Succeed())
			}
			populate(ctx, s, p+"type-hash", kindHash)
			populate(ctx, s, p+"type-set", kindSet)
			populate(ctx, s, p+"type-list", kindList)
		}, ginkgo.NodeTimeout(specTimeout))

		for _, batch := range []int{1, 0} {
			for _, c := range globCases {
				it("with batch "+itoa(batch)+" matches "+c.pattern+" following Redis' glob rules", func(ctx ginkgo.SpecContext) {
					got := scanAll(ctx, s, pattern(c.pattern), batch)
					if len(c.want) == 0 {
						gomega.Expect(got).To(gomega.BeEmpty())
						return
					}
					gomega.Expect(got).To(gomega.ConsistOf(names(p, c.want...)))
				})
			}
			it("with batch "+itoa(batch)+" reports each of many keys, and no other", func(ctx ginkgo.SpecContext) {
				many := numbered(p+"many:", 300)
				for _, k := range many {
					gomega.Expect(s.Set(ctx, k, nil, 0)).To(gomega.Succeed())
				}
				gomega.Expect(scanAll(ctx, s, pattern("many:*"), batch)).To(gomega.ConsistOf(many))
			})
			it("with batch "+itoa(batch)+" lets fn delete the keys it is given", func(ctx ginkgo.SpecContext) {
				many := numbered(p+"many:", 100)
				for _, k := range many {
					gomega.Expect(s.Set(ctx, k, nil, 0)).To(gomega.Succeed())
				}
				var got []string
				gomega.Expect(s.Scan(ctx, pattern("many:*"), batch, func(keys []string) error {
					got = append(got, keys...)
					n, err := s.Del(ctx, keys...)
					if err != nil {
						return err
					}
					if n != int64(len(keys)) {
						return errors.New("fn: Del of the reported keys removed " + itoa(int(n)) + " of " + itoa(len(keys)))
					}
					return nil
				})).To(gomega.Succeed())
				gomega.Expect(got).To(gomega.ConsistOf(many))
				gomega.Expect(s.Exists(ctx, many...)).To(gomega.Equal(int64(0)))
				expectIntact(ctx, s, p+"type-hash", kindHash)
			})
		}
		it("with batch 1 calls fn with small batches", func(ctx ginkgo.SpecContext) {
			many := numbered(p+"many:", 100)
			for _, k := range many {
				gomega.Expect(s.Set(ctx, k, nil, 0)).To(gomega.Succeed())
			}
			calls := 0
			gomega.Expect(s.Scan(ctx, pattern("many:*"), 1, func(keys []string) error {
				calls++
				return nil
			})).To(gomega.Succeed())
			// "At most about batch keys a call": 100 keys cannot come in
			// fewer than a handful of calls.
			gomega.Expect(calls).To(gomega.BeNumerically(">=", 10))
		})
		it("returns the error of fn as is and stops", func(ctx ginkgo.SpecContext) {
			errStop := errors.New("stop here")
			calls := 0
			err := s.Scan(ctx, pattern("*"), 1, func(keys []string) error {
				calls++
				return errStop
			})
			gomega.Expect(err).To(gomega.BeIdenticalTo(errStop))
			gomega.Expect(calls).To(gomega.Equal(1))
		})
	})
}

func itoa(i int) string { return strconv.Itoa(i) }
