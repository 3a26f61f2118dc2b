package conformance

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/gomega"

	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/domain"
)

type settings struct {
	Name  string            `json:"name"`
	Count int               `json:"count"`
	Tags  []string          `json:"tags"`
	Meta  map[string]string `json:"meta"`
}

// describeCache registers the specs of the site-scoped app.Cache, run on top
// of the backend's Store: every RedisWrapper behaviour, the request-local
// cache, pattern listing and site isolation.
func describeCache(newBackend Factory, f Features) {
	ginkgo.Describe("Cache", func() {
		var (
			ctx  context.Context
			b    Backend
			site string
			c    *app.Cache
			peer *app.Cache
		)
		newCache := func(site string) *app.Cache {
			ginkgo.GinkgoHelper()
			cc, err := app.New(b.Store, app.Config{Site: site})
			gomega.Expect(err).NotTo(gomega.HaveOccurred())
			return cc
		}
		ginkgo.BeforeEach(func() {
			ctx = context.Background()
			b = setup(ctx, newBackend)
			site = Prefix() + "site"
			c = newCache(site)
			if b.Peer != nil {
				var err error
				peer, err = app.New(b.Peer, app.Config{Site: site})
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
			}
		})

		ginkgo.Describe("New and MakeKey", func() {
			ginkgo.It("rejects an empty site, a site with '|' and a nil store", func() {
				_, err := app.New(b.Store, app.Config{})
				gomega.Expect(err).To(gomega.MatchError(domain.ErrInvalidArgument))
				_, err = app.New(b.Store, app.Config{Site: "a|b"})
				gomega.Expect(err).To(gomega.MatchError(domain.ErrInvalidArgument))
				_, err = app.New(nil, app.Config{Site: "a"})
				gomega.Expect(err).To(gomega.MatchError(domain.ErrInvalidArgument))
			})
			ginkgo.It("prefixes keys with the site, the user scope, or nothing when shared", func() {
				gomega.Expect(c.MakeKey("k")).To(gomega.Equal(site + "|k"))
				gomega.Expect(c.MakeKey("k", app.User("jane@x.com"))).To(gomega.Equal(site + "|user:jane@x.com:k"))
				gomega.Expect(c.MakeKey("k", app.Shared(), app.User("jane"))).To(gomega.Equal("k"))
			})
			ginkgo.It("rejects an empty key, a user with ':' and a shared key with '|'", func() {
				_, err := c.MakeKey("")
				gomega.Expect(err).To(gomega.MatchError(domain.ErrInvalidArgument))
				_, err = c.MakeKey("k", app.User("a:b"))
				gomega.Expect(err).To(gomega.MatchError(domain.ErrInvalidArgument))
				_, err = c.MakeKey("other|k", app.Shared())
				gomega.Expect(err).To(gomega.MatchError(domain.ErrInvalidArgument))
				gomega.Expect(c.SetValue(ctx, "", 1)).To(gomega.MatchError(domain.ErrInvalidArgument))
				_, err = app.GetValue[int](ctx, c, "")
				gomega.Expect(err).To(gomega.MatchError(domain.ErrInvalidArgument))
			})
			ginkgo.It("reports the backend as connected", func() {
				gomega.Expect(c.Connected(ctx)).To(gomega.BeTrue())
			})
		})

		ginkgo.Describe("values", func() {
			ginkgo.It("round-trips typed values through the codec", func() {
				want := settings{Name: "Zürich 東京", Count: 3, Tags: []string{"a", "b"}, Meta: map[string]string{"k": "v"}}
				gomega.Expect(c.SetValue(ctx, "s", want)).To(gomega.Succeed())
				got, err := app.GetValue[settings](ctx, c, "s")
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				gomega.Expect(got).To(gomega.Equal(want))
				raw, err := b.Store.Get(ctx, site+"|s")
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				gomega.Expect(string(raw)).To(gomega.ContainSubstring(`"name":"Zürich 東京"`))
			})
			ginkgo.It("returns ErrNotFound for a missing key", func() {
				_, err := app.GetValue[string](ctx, c, "missing")
				gomega.Expect(err).To(gomega.MatchError(domain.ErrNotFound))
			})
			ginkgo.It("rejects nil and unencodable values and stores nothing", func() {
				gomega.Expect(c.SetValue(ctx, "n", nil)).To(gomega.MatchError(domain.ErrInvalidArgument))
				gomega.Expect(c.SetValue(ctx, "ch", make(chan int))).To(gomega.MatchError(domain.ErrInvalidArgument))
				gomega.Expect(c.SetValue(ctx, "fn", func() {})).To(gomega.MatchError(domain.ErrInvalidArgument))
				n, err := c.CountExisting(ctx, []string{"n", "ch", "fn"})
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				gomega.Expect(n).To(gomega.BeZero())
			})
			ginkgo.It("stores a typed nil (JSON null), which exists and decodes to the zero value", func() {
				var p *settings
				gomega.Expect(c.SetValue(ctx, "null", p)).To(gomega.Succeed())
				gomega.Expect(c.Exists(ctx, "null")).To(gomega.BeTrue())
				got, err := app.GetValue[*settings](ctx, c, "null")
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				gomega.Expect(got).To(gomega.BeNil())
			})
			ginkgo.It("fails with ErrInvalidArgument when the stored bytes don't decode into T", func() {
				gomega.Expect(c.SetValue(ctx, "str", "text")).To(gomega.Succeed())
				_, err := app.GetValue[int](ctx, c, "str")
				gomega.Expect(err).To(gomega.MatchError(domain.ErrInvalidArgument))
			})
			ginkgo.It("expires a value set with Expires, and keeps one set with Expires(0)", func() {
				gomega.Expect(c.SetValue(ctx, "short", 1, app.Expires(80*time.Millisecond))).To(gomega.Succeed())
				gomega.Expect(c.SetValue(ctx, "forever", 1, app.Expires(0))).To(gomega.Succeed())
				ttl, err := b.Store.TTL(ctx, site+"|short")
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				gomega.Expect(ttl).To(gomega.BeNumerically(">", 0))
				gomega.Eventually(func() error {
					_, err := app.GetValue[int](ctx, c, "short")
					return err
				}).WithTimeout(3 * time.Second).WithPolling(10 * time.Millisecond).Should(gomega.MatchError(domain.ErrNotFound))
				gomega.Expect(b.Store.TTL(ctx, site+"|forever")).To(gomega.Equal(time.Duration(0)))
			})
			ginkgo.It("rejects a negative or sub-millisecond expiry and stores nothing", func() {
				gomega.Expect(c.SetValue(ctx, "neg", 1, app.Expires(-time.Second))).To(gomega.MatchError(domain.ErrInvalidArgument))
				gomega.Expect(c.SetValue(ctx, "tiny", 1, app.Expires(time.Microsecond))).To(gomega.MatchError(domain.ErrInvalidArgument))
				gomega.Expect(c.CountExisting(ctx, []string{"neg", "tiny"})).To(gomega.BeZero())
			})
			ginkgo.It("sets, persists and reports the expiry of a key with ExpireKey", func() {
				gomega.Expect(c.SetValue(ctx, "k", 1)).To(gomega.Succeed())
				gomega.Expect(c.ExpireKey(ctx, "k", time.Hour)).To(gomega.BeTrue())
				gomega.Expect(b.Store.TTL(ctx, site+"|k")).To(gomega.BeNumerically(">", 59*time.Minute))
				gomega.Expect(c.ExpireKey(ctx, "k", 0)).To(gomega.BeTrue())
				gomega.Expect(b.Store.TTL(ctx, site+"|k")).To(gomega.Equal(time.Duration(0)))
				gomega.Expect(c.ExpireKey(ctx, "missing", time.Hour)).To(gomega.BeFalse())
				_, err := c.ExpireKey(ctx, "k", -time.Second)
				gomega.Expect(err).To(gomega.MatchError(domain.ErrInvalidArgument))
			})
			ginkgo.It("reports WRONGTYPE when a value key holds a list", func() {
				_, err := c.RPush(ctx, "l", "x")
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				_, err = app.GetValue[string](ctx, c, "l")
				gomega.Expect(err).To(gomega.MatchError(domain.ErrWrongType))
				_, err = c.HKeys(ctx, "l")
				gomega.Expect(err).To(gomega.MatchError(domain.ErrWrongType))
			})
			ginkgo.It("keeps user-scoped, site and shared keys apart", func() {
				shared := strings.ReplaceAll(site, "|", "") + "-shared"
				gomega.Expect(c.SetValue(ctx, "k", "site")).To(gomega.Succeed())
				gomega.Expect(c.SetValue(ctx, "k", "jane", app.User("jane"))).To(gomega.Succeed())
				gomega.Expect(c.SetValue(ctx, shared, "shared", app.Shared())).To(gomega.Succeed())
				gomega.Expect(app.GetValue[string](ctx, c, "k")).To(gomega.Equal("site"))
				gomega.Expect(app.GetValue[string](ctx, c, "k", app.User("jane"))).To(gomega.Equal("jane"))
				gomega.Expect(app.GetValue[string](ctx, c, "user:jane:k")).To(gomega.Equal("jane"))
				other := newCache(site + "-other")
				gomega.Expect(app.GetValue[string](ctx, other, shared, app.Shared())).To(gomega.Equal("shared"))
				_, err := app.GetValue[string](ctx, other, "k")
				gomega.Expect(err).To(gomega.MatchError(domain.ErrNotFound))
			})
			ginkgo.It("deletes one or many keys and counts existing ones", func() {
				for _, k := range []string{"a", "b", "c"} {
					gomega.Expect(c.SetValue(ctx, k, k)).To(gomega.Succeed())
				}
				gomega.Expect(c.CountExisting(ctx, []string{"a", "b", "c", "a", "zz"})).To(gomega.Equal(int64(4)))
				gomega.Expect(c.DeleteValue(ctx, "a")).To(gomega.Succeed())
				gomega.Expect(c.DeleteKey(ctx, "zz")).To(gomega.Succeed())
				gomega.Expect(c.DeleteValues(ctx, []string{"b", "c"})).To(gomega.Succeed())
				gomega.Expect(c.DeleteValues(ctx, nil)).To(gomega.Succeed())
				gomega.Expect(c.CountExisting(ctx, []string{"a", "b", "c"})).To(gomega.BeZero())
				gomega.Expect(c.Exists(ctx, "a")).To(gomega.BeFalse())
			})
		})

		ginkgo.Describe("GetOrGenerate", func() {
			ginkgo.It("calls the generator once, stores its value and serves it afterwards", func() {
				calls := 0
				gen := func(context.Context) (settings, error) { calls++; return settings{Name: "gen"}, nil }
				v, err := app.GetOrGenerate(ctx, c, "g", gen)
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				gomega.Expect(v.Name).To(gomega.Equal("gen"))
				v, err = app.GetOrGenerate(ctx, c, "g", gen)
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				gomega.Expect(v.Name).To(gomega.Equal("gen"))
				gomega.Expect(calls).To(gomega.Equal(1))
				gomega.Expect(b.Store.TTL(ctx, site+"|g")).To(gomega.Equal(time.Duration(0)))
			})
			ginkgo.It("stores the generated value with the Expires ttl", func() {
				_, err := app.GetOrGenerate(ctx, c, "g", func(context.Context) (int, error) { return 7, nil }, app.Expires(time.Hour))
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				gomega.Expect(b.Store.TTL(ctx, site+"|g")).To(gomega.BeNumerically(">", 59*time.Minute))
			})
			ginkgo.It("returns the generator's error and stores nothing", func() {
				boom := fmt.Errorf("boom")
				_, err := app.GetOrGenerate(ctx, c, "g", func(context.Context) (int, error) { return 0, boom })
				gomega.Expect(err).To(gomega.MatchError(boom))
				gomega.Expect(c.Exists(ctx, "g")).To(gomega.BeFalse())
			})
			ginkgo.It("rejects a nil generator", func() {
				_, err := app.GetOrGenerate[int](ctx, c, "g", nil)
				gomega.Expect(err).To(gomega.MatchError(domain.ErrInvalidArgument))
			})
			ginkgo.It("scopes the generated value like the read", func() {
				_, err := app.GetOrGenerate(ctx, c, "g", func(context.Context) (string, error) { return "mine", nil }, app.User("jane"))
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				gomega.Expect(b.Store.Get(ctx, site+"|user:jane:g")).To(gomega.Equal([]byte(`"mine"`)))
			})
		})

		ginkgo.Describe("request-local cache", func() {
			ginkgo.BeforeEach(func() {
				if peer == nil {
					ginkgo.Skip("backend has no Peer client")
				}
			})
			ginkgo.It("serves repeatable reads within a request and fresh reads without one", func() {
				gomega.Expect(peer.SetValue(ctx, "k", "v1")).To(gomega.Succeed())
				rctx := app.WithRequestCache(ctx)
				gomega.Expect(app.GetValue[string](rctx, c, "k")).To(gomega.Equal("v1"))
				gomega.Expect(peer.SetValue(ctx, "k", "v2")).To(gomega.Succeed())
				gomega.Expect(app.GetValue[string](rctx, c, "k")).To(gomega.Equal("v1"))
				// Without a request cache the change shows (at once on a
				// plain backend, once invalidated through a ClientCache).
				gomega.Eventually(func() (string, error) { return app.GetValue[string](ctx, c, "k") }).
					WithTimeout(5 * time.Second).WithPolling(time.Millisecond).Should(gomega.Equal("v2"))
				gomega.Expect(app.GetValue[string](rctx, c, "k")).To(gomega.Equal("v1"))
				app.ClearRequestCache(rctx)
				gomega.Expect(app.GetValue[string](rctx, c, "k")).To(gomega.Equal("v2"))
			})
			ginkgo.It("remembers a miss, but still lets a generator run", func() {
				rctx := app.WithRequestCache(ctx)
				_, err := app.GetValue[string](rctx, c, "k")
				gomega.Expect(err).To(gomega.MatchError(domain.ErrNotFound))
				gomega.Expect(peer.SetValue(ctx, "k", "v")).To(gomega.Succeed())
				_, err = app.GetValue[string](rctx, c, "k")
				gomega.Expect(err).To(gomega.MatchError(domain.ErrNotFound))
				gomega.Expect(peer.DeleteValue(ctx, "k")).To(gomega.Succeed())
				v, err := app.GetOrGenerate(rctx, c, "k", func(context.Context) (string, error) { return "gen", nil })
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				gomega.Expect(v).To(gomega.Equal("gen"))
				gomega.Expect(app.GetValue[string](rctx, c, "k")).To(gomega.Equal("gen"))
			})
			ginkgo.It("sees its own writes and deletes at once", func() {
				rctx := app.WithRequestCache(ctx)
				gomega.Expect(c.SetValue(rctx, "k", "a")).To(gomega.Succeed())
				gomega.Expect(app.GetValue[string](rctx, c, "k")).To(gomega.Equal("a"))
				gomega.Expect(c.DeleteValue(rctx, "k")).To(gomega.Succeed())
				_, err := app.GetValue[string](rctx, c, "k")
				gomega.Expect(err).To(gomega.MatchError(domain.ErrNotFound))
			})
			ginkgo.It("does not keep values read with Expires", func() {
				gomega.Expect(peer.SetValue(ctx, "k", "v1")).To(gomega.Succeed())
				rctx := app.WithRequestCache(ctx)
				gomega.Expect(app.GetValue[string](rctx, c, "k", app.Expires(0))).To(gomega.Equal("v1"))
				gomega.Expect(peer.SetValue(ctx, "k", "v2")).To(gomega.Succeed())
				gomega.Eventually(func() (string, error) { return app.GetValue[string](rctx, c, "k", app.Expires(0)) }).
					WithTimeout(5 * time.Second).WithPolling(time.Millisecond).Should(gomega.Equal("v2"))
			})
			ginkgo.It("keeps hash fields read within a request", func() {
				gomega.Expect(peer.HSet(ctx, "h", "f", 1)).To(gomega.Succeed())
				rctx := app.WithRequestCache(ctx)
				gomega.Expect(app.HGet[int](rctx, c, "h", "f")).To(gomega.Equal(1))
				gomega.Expect(peer.HSet(ctx, "h", "f", 2)).To(gomega.Succeed())
				gomega.Expect(app.HGet[int](rctx, c, "h", "f")).To(gomega.Equal(1))
				_, err := c.HDel(rctx, "h", []string{"f"})
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				_, err = app.HGet[int](rctx, c, "h", "f")
				gomega.Expect(err).To(gomega.MatchError(domain.ErrNotFound))
			})
		})

		ginkgo.Describe("request-local cache boundary", func() {
			// mutate overwrites every byte of b, as a careless caller
			// reusing its buffer would.
			mutate := func(b []byte) {
				for i := range b {
					b[i] = 'X'
				}
			}
			ginkgo.It("copies what SetRaw is given", func() {
				rctx := app.WithRequestCache(ctx)
				data := []byte(`"abc"`)
				gomega.Expect(c.SetRaw(rctx, "k", data)).To(gomega.Succeed())
				mutate(data)
				gomega.Expect(c.GetRaw(rctx, "k")).To(gomega.Equal([]byte(`"abc"`)))
			})
			ginkgo.It("copies what GetRaw returns, on the first read and on a hit", func() {
				gomega.Expect(c.SetRaw(ctx, "k", []byte(`"abc"`))).To(gomega.Succeed())
				rctx := app.WithRequestCache(ctx)
				for range 3 {
					got, err := c.GetRaw(rctx, "k")
					gomega.Expect(err).NotTo(gomega.HaveOccurred())
					gomega.Expect(got).To(gomega.Equal([]byte(`"abc"`)))
					mutate(got)
				}
			})
			ginkgo.It("copies what GetOrGenerateRaw generated and returned", func() {
				rctx := app.WithRequestCache(ctx)
				gen := []byte(`"gen"`)
				got, err := c.GetOrGenerateRaw(rctx, "k", func(context.Context) ([]byte, error) { return gen, nil })
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				mutate(gen)
				mutate(got)
				gomega.Expect(c.GetRaw(rctx, "k")).To(gomega.Equal([]byte(`"gen"`)))
			})
			ginkgo.It("copies hash fields, both ways", func() {
				rctx := app.WithRequestCache(ctx)
				data := []byte(`1`)
				gomega.Expect(c.HSetRaw(rctx, "h", "f", data)).To(gomega.Succeed())
				mutate(data)
				for range 3 {
					got, err := c.HGetRaw(rctx, "h", "f")
					gomega.Expect(err).NotTo(gomega.HaveOccurred())
					gomega.Expect(got).To(gomega.Equal([]byte(`1`)))
					mutate(got)
				}
				gomega.Expect(c.HSetRaw(ctx, "h", "g", []byte(`2`))).To(gomega.Succeed())
				for range 3 { // first read from the backend, then hits
					got, err := c.HGetRaw(rctx, "h", "g")
					gomega.Expect(err).NotTo(gomega.HaveOccurred())
					gomega.Expect(got).To(gomega.Equal([]byte(`2`)))
					mutate(got)
				}
			})
		})

		ginkgo.Describe("user scope", func() {
			ginkgo.It("is a namespace inside the site, as app.User documents", func() {
				gomega.Expect(c.SetValue(ctx, "otp", "123", app.User("alice"))).To(gomega.Succeed())
				gomega.Expect(app.GetValue[string](ctx, c, "user:alice:otp")).To(gomega.Equal("123"))
				gomega.Expect(c.SetValue(ctx, "otp", "456", app.User("bob"))).To(gomega.Succeed())
				gomega.Expect(c.DeleteKeys(ctx, "user:alice")).To(gomega.Equal(int64(1)))
				_, err := app.GetValue[string](ctx, c, "otp", app.User("alice"))
				gomega.Expect(err).To(gomega.MatchError(domain.ErrNotFound))
				gomega.Expect(app.GetValue[string](ctx, c, "otp", app.User("bob"))).To(gomega.Equal("456"))
			})
		})

		ginkgo.Describe("GetKeys, GetAll and DeleteKeys", func() {
			ginkgo.It("lists the keys that start with a prefix, without the site", func() {
				for _, k := range []string{"p_1", "p_2", "q_1"} {
					gomega.Expect(c.SetValue(ctx, k, k)).To(gomega.Succeed())
				}
				gomega.Expect(c.SetValue(ctx, "p_u", 1, app.User("jane"))).To(gomega.Succeed())
				gomega.Expect(sorted(c.GetKeys(ctx, "p_"))).To(gomega.Equal([]string{"p_1", "p_2"}))
				gomega.Expect(sorted(c.GetKeys(ctx, ""))).To(gomega.Equal([]string{"p_1", "p_2", "q_1", "user:jane:p_u"}))
				gomega.Expect(sorted(c.GetKeys(ctx, "p", app.User("jane")))).To(gomega.Equal([]string{"p_u"}))
				gomega.Expect(sorted(c.GetKeys(ctx, "nothing"))).To(gomega.BeEmpty())
			})
			ginkgo.It("keeps the glob meaning of the caller's part only", func() {
				for _, k := range []string{"a1x", "a2x", "abx", "b1x"} {
					gomega.Expect(c.SetValue(ctx, k, k)).To(gomega.Succeed())
				}
				gomega.Expect(sorted(c.GetKeys(ctx, "a[0-9]"))).To(gomega.Equal([]string{"a1x", "a2x"}))
				gomega.Expect(sorted(c.GetKeys(ctx, "?1"))).To(gomega.Equal([]string{"a1x", "b1x"}))
				gomega.Expect(sorted(c.GetKeys(ctx, "*x"))).To(gomega.Equal([]string{"a1x", "a2x", "abx", "b1x"}))
			})
			ginkgo.It("never lists or deletes another site's keys, whatever the site names contain", func() {
				base := Prefix()
				names := []string{"a", "a*", "ab", "s[1]", "s1", "s?", "sx", `s\`, `s\x`, "*", "[", "]"}
				caches := map[string]*app.Cache{}
				for _, n := range names {
					cc := newCache(base + n)
					caches[n] = cc
					gomega.Expect(cc.SetValue(ctx, "k", n)).To(gomega.Succeed())
					gomega.Expect(cc.SetValue(ctx, "k", n, app.User("u*"))).To(gomega.Succeed())
					gomega.Expect(cc.SetValue(ctx, "k", n, app.User("u"))).To(gomega.Succeed())
				}
				for _, n := range names {
					cc := caches[n]
					gomega.Expect(sorted(cc.GetKeys(ctx, ""))).To(gomega.Equal([]string{"k", "user:u*:k", "user:u:k"}), "site %q", n)
					gomega.Expect(sorted(cc.GetKeys(ctx, "", app.User("u*")))).To(gomega.Equal([]string{"k"}), "site %q", n)
					all, err := app.GetAll[string](ctx, cc, "k")
					gomega.Expect(err).NotTo(gomega.HaveOccurred())
					gomega.Expect(all).To(gomega.Equal(map[string]string{"k": n}))
				}
				n, err := caches["a*"].DeleteKeys(ctx, "")
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				gomega.Expect(n).To(gomega.Equal(int64(3)))
				n, err = caches["s[1]"].DeleteKeys(ctx, "*")
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				gomega.Expect(n).To(gomega.Equal(int64(3)))
				n, err = caches["*"].DeleteKeys(ctx, "", app.User("u*"))
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				gomega.Expect(n).To(gomega.Equal(int64(1)))
				for _, name := range names {
					want := 3
					switch name {
					case "a*", "s[1]":
						want = 0
					case "*":
						want = 2
					}
					gomega.Expect(caches[name].GetKeys(ctx, "")).To(gomega.HaveLen(want), "site %q", name)
				}
			})
			ginkgo.It("lists shared keys without ever listing a site's keys", func() {
				shared := strings.ReplaceAll(Prefix(), "|", "")
				gomega.Expect(c.SetValue(ctx, shared+"x", 1, app.Shared())).To(gomega.Succeed())
				gomega.Expect(c.SetValue(ctx, "x", 1)).To(gomega.Succeed())
				keys, err := c.GetKeys(ctx, "", app.Shared())
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				gomega.Expect(keys).To(gomega.ContainElement(shared + "x"))
				for _, k := range keys {
					gomega.Expect(k).NotTo(gomega.ContainSubstring("|"))
				}
			})
			ginkgo.It("returns every value by key with GetAll, leaving other types out", func() {
				gomega.Expect(c.SetValue(ctx, "v_1", 1)).To(gomega.Succeed())
				gomega.Expect(c.SetValue(ctx, "v_2", 2)).To(gomega.Succeed())
				gomega.Expect(c.HSet(ctx, "v_h", "f", 3)).To(gomega.Succeed())
				gomega.Expect(app.GetAll[int](ctx, c, "v_")).To(gomega.Equal(map[string]int{"v_1": 1, "v_2": 2}))
				gomega.Expect(app.GetAll[int](ctx, c, "none")).To(gomega.BeEmpty())
			})
			ginkgo.It("deletes many keys in batches and counts them", func() {
				const n = 1234
				for i := range n {
					gomega.Expect(c.SetValue(ctx, fmt.Sprintf("bulk:%d", i), i)).To(gomega.Succeed())
				}
				gomega.Expect(c.SetValue(ctx, "keep", 1)).To(gomega.Succeed())
				rctx := app.WithRequestCache(ctx)
				gomega.Expect(app.GetValue[int](rctx, c, "bulk:7")).To(gomega.Equal(7))
				gomega.Expect(c.DeleteKeys(rctx, "bulk:")).To(gomega.Equal(int64(n)))
				gomega.Expect(c.GetKeys(ctx, "bulk:")).To(gomega.BeEmpty())
				gomega.Expect(c.Exists(ctx, "keep")).To(gomega.BeTrue())
				_, err := app.GetValue[int](rctx, c, "bulk:7")
				gomega.Expect(err).To(gomega.MatchError(domain.ErrNotFound))
			})
		})

		ginkgo.Describe("hashes", func() {
			ginkgo.It("sets, gets, lists and deletes fields", func() {
				gomega.Expect(c.HSet(ctx, "h", "a", settings{Name: "a"})).To(gomega.Succeed())
				gomega.Expect(c.HSet(ctx, "h", "b", settings{Name: "b"})).To(gomega.Succeed())
				gomega.Expect(app.HGet[settings](ctx, c, "h", "a")).To(gomega.Equal(settings{Name: "a"}))
				gomega.Expect(c.HExists(ctx, "h", "a")).To(gomega.BeTrue())
				gomega.Expect(c.HExists(ctx, "h", "z")).To(gomega.BeFalse())
				gomega.Expect(sorted(c.HKeys(ctx, "h"))).To(gomega.Equal([]string{"a", "b"}))
				all, err := app.HGetAll[settings](ctx, c, "h")
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				gomega.Expect(all).To(gomega.HaveLen(2))
				gomega.Expect(all["b"].Name).To(gomega.Equal("b"))
				gomega.Expect(c.HDel(ctx, "h", []string{"a", "zz"})).To(gomega.Equal(int64(1)))
				_, err = app.HGet[settings](ctx, c, "h", "a")
				gomega.Expect(err).To(gomega.MatchError(domain.ErrNotFound))
				gomega.Expect(c.HDel(ctx, "h", nil)).To(gomega.Equal(int64(0)))
				gomega.Expect(app.HGetAll[int](ctx, c, "missing")).To(gomega.BeEmpty())
			})
			ginkgo.It("rejects an empty field and nil values", func() {
				gomega.Expect(c.HSet(ctx, "h", "", 1)).To(gomega.MatchError(domain.ErrInvalidArgument))
				gomega.Expect(c.HSet(ctx, "h", "f", nil)).To(gomega.MatchError(domain.ErrInvalidArgument))
				_, err := app.HGet[int](ctx, c, "h", "")
				gomega.Expect(err).To(gomega.MatchError(domain.ErrInvalidArgument))
				gomega.Expect(c.Exists(ctx, "h")).To(gomega.BeFalse())
			})
			ginkgo.It("generates a missing field once", func() {
				calls := 0
				gen := func(context.Context) (int, error) { calls++; return 42, nil }
				gomega.Expect(app.HGetOrGenerate(ctx, c, "h", "f", gen)).To(gomega.Equal(42))
				gomega.Expect(app.HGetOrGenerate(ctx, c, "h", "f", gen)).To(gomega.Equal(42))
				gomega.Expect(calls).To(gomega.Equal(1))
			})
			ginkgo.It("shares hash names with Shared", func() {
				name := strings.ReplaceAll(Prefix(), "|", "") + "h"
				gomega.Expect(c.HSet(ctx, name, "f", 1, app.Shared())).To(gomega.Succeed())
				other := newCache(site + "-o")
				gomega.Expect(app.HGet[int](ctx, other, name, "f", app.Shared())).To(gomega.Equal(1))
				_, err := app.HGet[int](ctx, other, name, "f")
				gomega.Expect(err).To(gomega.MatchError(domain.ErrNotFound))
			})
			ginkgo.It("drops one field from many hashes with HDelNames, HDelKeys and a Pipeline", func() {
				for _, h := range []string{"uh_1", "uh_2", "uh_3", "other"} {
					gomega.Expect(c.HSet(ctx, h, "jane", 1)).To(gomega.Succeed())
					gomega.Expect(c.HSet(ctx, h, "joe", 1)).To(gomega.Succeed())
				}
				gomega.Expect(c.SetValue(ctx, "uh_value", 1)).To(gomega.Succeed())
				gomega.Expect(c.HDelNames(ctx, []string{"uh_1", "missing"}, "jane")).To(gomega.Equal(int64(1)))
				gomega.Expect(c.HDelKeys(ctx, "uh_", "jane")).To(gomega.Equal(int64(2)))
				for _, h := range []string{"uh_1", "uh_2", "uh_3"} {
					gomega.Expect(c.HKeys(ctx, h)).To(gomega.Equal([]string{"joe"}))
				}
				gomega.Expect(sorted(c.HKeys(ctx, "other"))).To(gomega.Equal([]string{"jane", "joe"}))
				p := c.Pipeline()
				gomega.Expect(p.HDel("other", []string{"jane"})).To(gomega.Succeed())
				gomega.Expect(p.HDel("uh_1", []string{"joe"})).To(gomega.Succeed())
				gomega.Expect(p.HDel("x", []string{""})).To(gomega.MatchError(domain.ErrInvalidArgument))
				gomega.Expect(p.Len()).To(gomega.Equal(2))
				gomega.Expect(p.Exec(ctx)).To(gomega.Equal(int64(2)))
				gomega.Expect(p.Exec(ctx)).To(gomega.Equal(int64(0)))
				gomega.Expect(c.Exists(ctx, "uh_1")).To(gomega.BeFalse())
			})
		})

		ginkgo.Describe("lists", func() {
			ginkgo.It("pushes, pops, ranges and trims", func() {
				gomega.Expect(c.RPush(ctx, "l", "b", "c")).To(gomega.Equal(int64(2)))
				gomega.Expect(c.LPush(ctx, "l", "a")).To(gomega.Equal(int64(3)))
				gomega.Expect(c.LRange(ctx, "l", 0, -1)).To(gomega.Equal([]string{"a", "b", "c"}))
				gomega.Expect(c.LLen(ctx, "l")).To(gomega.Equal(int64(3)))
				gomega.Expect(c.LTrim(ctx, "l", 0, 1)).To(gomega.Succeed())
				gomega.Expect(c.LRange(ctx, "l", 0, -1)).To(gomega.Equal([]string{"a", "b"}))
				gomega.Expect(c.LPop(ctx, "l")).To(gomega.Equal("a"))
				gomega.Expect(c.RPop(ctx, "l")).To(gomega.Equal("b"))
				_, err := c.LPop(ctx, "l")
				gomega.Expect(err).To(gomega.MatchError(domain.ErrNotFound))
				gomega.Expect(c.Exists(ctx, "l")).To(gomega.BeFalse())
			})
		})

		ginkgo.Describe("sets", func() {
			ginkgo.It("adds, removes and samples members with counts", func() {
				gomega.Expect(c.SAdd(ctx, "s", "a", "b", "c", "a")).To(gomega.Equal(int64(3)))
				gomega.Expect(c.SAdd(ctx, "s")).To(gomega.Equal(int64(0)))
				gomega.Expect(c.SIsMember(ctx, "s", "a")).To(gomega.BeTrue())
				gomega.Expect(c.SRem(ctx, "s", "a", "z")).To(gomega.Equal(int64(1)))
				gomega.Expect(sorted(c.SMembers(ctx, "s"))).To(gomega.Equal([]string{"b", "c"}))
				two, err := c.SRandMember(ctx, "s", 5)
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				gomega.Expect(two).To(gomega.ConsistOf("b", "c"))
				many, err := c.SRandMember(ctx, "s", -5)
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				gomega.Expect(many).To(gomega.HaveLen(5))
				gomega.Expect(many).To(gomega.HaveEach(gomega.BeElementOf("b", "c")))
				p, err := c.SPop(ctx, "s")
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				gomega.Expect(p).To(gomega.BeElementOf("b", "c"))
				_, _ = c.SPop(ctx, "s")
				_, err = c.SPop(ctx, "s")
				gomega.Expect(err).To(gomega.MatchError(domain.ErrNotFound))
			})
		})

		ginkgo.Describe("FT suggestions", func() {
			ginkgo.BeforeEach(func() {
				if !f.Suggest {
					ginkgo.Skip("backend has no Suggest")
				}
			})
			ginkgo.It("prefixes dictionaries with the site, so two sites never see each other's", func() {
				other := newCache(site + "-other")
				gomega.Expect(c.FT("").Index()).To(gomega.Equal(site + "|idx"))
				gomega.Expect(c.FT("").SugAdd(ctx, "dict", domain.Suggestion{String: "hello"})).To(gomega.Equal(int64(1)))
				gomega.Expect(other.FT("").SugAdd(ctx, "dict", domain.Suggestion{String: "help"}, domain.Suggestion{String: "helm"})).To(gomega.Equal(int64(2)))
				got, err := c.FT("").SugGet(ctx, "dict", "hel", domain.SugGetOptions{})
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				gomega.Expect(got).To(gomega.HaveLen(1))
				gomega.Expect(got[0].String).To(gomega.Equal("hello"))
				gomega.Expect(c.FT("").SugLen(ctx, "dict")).To(gomega.Equal(int64(1)))
				gomega.Expect(c.FT("").SugDel(ctx, "dict", "help")).To(gomega.BeFalse())
				gomega.Expect(other.FT("").SugDel(ctx, "dict", "help")).To(gomega.BeTrue())
			})
			ginkgo.It("returns 10 suggestions for a zero Max, as Frappe's sugget asks", func() {
				var sugs []domain.Suggestion
				for i := range 12 {
					sugs = append(sugs, domain.Suggestion{String: fmt.Sprintf("word%02d", i)})
				}
				gomega.Expect(c.FT("").SugAdd(ctx, "dict", sugs...)).To(gomega.Equal(int64(12)))
				got, err := c.FT("").SugGet(ctx, "dict", "word", domain.SugGetOptions{})
				gomega.Expect(err).NotTo(gomega.HaveOccurred())
				gomega.Expect(got).To(gomega.HaveLen(domain.DefaultSugMax))
				gomega.Expect(domain.DefaultSugMax).To(gomega.Equal(10))
			})
		})
	})
}

// sorted sorts the keys a listing returned, for order-free comparison.
func sorted(keys []string, err error) []string {
	gomega.ExpectWithOffset(1, err).NotTo(gomega.HaveOccurred())
	out := append([]string{}, keys...)
	sort.Strings(out)
	return out
}
