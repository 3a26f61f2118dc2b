package tests

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rediscache/rediscache/adapters/memory"
	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/app/clientcache"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
	"github.com/rediscache/rediscache/tests/conformance"
	"github.com/rediscache/rediscache/tests/storetest"
)

// clientCacheFactory wraps a backend's Store in a started ClientCache, so the
// whole conformance suite runs through it: behaviour must be unchanged. The
// Tracker specs run on the backend's own tracking, which the ClientCache
// shares: another sink of the same store.
func clientCacheFactory(inner conformance.Factory) conformance.Factory {
	return func(ctx context.Context) (conformance.Backend, error) {
		b, err := inner(ctx)
		if err != nil {
			return b, err
		}
		ts, ok := b.Store.(ports.TrackedStore)
		if !ok {
			return b, errors.Join(fmt.Errorf("%T is no ports.TrackedStore", b.Store), b.Close())
		}
		cc, err := clientcache.New(ts, clientcache.Config{})
		if err != nil {
			return b, err
		}
		if err := cc.Start(ctx); err != nil {
			return b, err
		}
		closeInner := b.Close
		b.Store = cc.Store()
		b.Close = func() error {
			err := cc.Stop(context.Background())
			if closeInner != nil {
				err = errors.Join(err, closeInner())
			}
			return err
		}
		return b, nil
	}
}

var _ = conformance.Describe("clientcache over memory", clientCacheFactory(memoryFactory),
	conformance.Features{Suggest: true}, Label("memory", "clientcache"))

// ccBackend is what the ClientCache's own specs run on: a store to cache
// over, an independent peer client of the same data (another process), a
// flush of the whole database, and the cleanup.
type ccBackend struct {
	store ports.TrackedStore
	peer  ports.Store
	flush func(context.Context) error
	close func() error
}

func describeClientCache(name string, newBackend func(ctx context.Context) ccBackend, labels ...any) bool {
	return Describe("ClientCache on "+name, append(labels, func() {
		var (
			ctx     context.Context
			b       ccBackend
			counted *storetest.Store
			cc      *clientcache.ClientCache
			sc      *clientcache.Site
			peer    *app.Cache
			site    string
		)
		start := func(cfg clientcache.Config, opts ...clientcache.Option) {
			GinkgoHelper()
			if cc != nil {
				Expect(cc.Stop(ctx)).To(Succeed())
			}
			var err error
			cc, err = clientcache.New(counted, cfg, opts...)
			Expect(err).NotTo(HaveOccurred())
			Expect(cc.Start(ctx)).To(Succeed())
			sc, err = cc.Site(site)
			Expect(err).NotTo(HaveOccurred())
		}
		// settle waits until every invalidation caused by changes made so
		// far has been applied. Invalidations are applied in order, so it
		// makes one more change, to a key the cache holds, and waits for it.
		settle := func() {
			GinkgoHelper()
			// Read the marker until it is held locally (the eviction
			// policy admits a key once it is requested more often than
			// what it would push out).
			Eventually(func() bool {
				_, err := clientcache.GetValue[int64](ctx, sc, "settle-marker")
				if err != nil && !errors.Is(err, domain.ErrNotFound) {
					return false
				}
				before := counted.CallsOf("Fetch")
				_, _ = clientcache.GetValue[int64](ctx, sc, "settle-marker")
				return counted.CallsOf("Fetch") == before
			}).WithTimeout(5*time.Second).Should(BeTrue(), "the settle marker is never held locally")
			before := cc.Statistics().Invalidations
			Expect(peer.SetValue(ctx, "settle-marker", time.Now().UnixNano())).To(Succeed())
			Eventually(func() uint64 { return cc.Statistics().Invalidations }).
				WithTimeout(5 * time.Second).WithPolling(time.Millisecond).Should(BeNumerically(">", before))
		}
		BeforeEach(func() {
			ctx = context.Background()
			b = newBackend(ctx)
			DeferCleanup(func() error { return b.close() })
			counted = storetest.Wrap(b.store)
			site = conformance.Prefix() + "site"
			var err error
			peer, err = app.New(b.peer, app.Config{Site: site})
			Expect(err).NotTo(HaveOccurred())
			cc = nil
			start(clientcache.Config{})
			DeferCleanup(func(ctx context.Context) error { return cc.Stop(ctx) })
		})

		It("answers a hit with zero backend commands", func() {
			Expect(peer.SetValue(ctx, "k", "v")).To(Succeed())
			settle()
			cc.ResetStatistics()
			Expect(clientcache.GetValue[string](ctx, sc, "k")).To(Equal("v"))
			before := counted.Calls()
			for range 100 {
				Expect(clientcache.GetValue[string](ctx, sc, "k")).To(Equal("v"))
			}
			Expect(counted.Calls()).To(Equal(before))
			st := cc.Statistics()
			Expect(st.Hits).To(Equal(uint64(100)))
			Expect(st.Misses).To(Equal(uint64(1)))
			Expect(st.HitRatio).To(Equal(0.99))
			Expect(st.Healthy).To(BeTrue())
		})

		It("remembers a miss and forgets it when another client writes the key", func() {
			settle()
			_, err := clientcache.GetValue[string](ctx, sc, "k")
			Expect(err).To(MatchError(domain.ErrNotFound))
			before := counted.Calls()
			_, err = clientcache.GetValue[string](ctx, sc, "k")
			Expect(err).To(MatchError(domain.ErrNotFound))
			Expect(counted.Calls()).To(Equal(before))
			Expect(peer.SetValue(ctx, "k", "new")).To(Succeed())
			Eventually(func() (string, error) { return clientcache.GetValue[string](ctx, sc, "k") }).
				WithTimeout(5 * time.Second).WithPolling(time.Millisecond).Should(Equal("new"))
		})

		DescribeTable("follows another client's change",
			func(change func(key string) error, want string, wantErr error) {
				Expect(peer.SetValue(ctx, "k", "old", app.Expires(0))).To(Succeed())
				Expect(clientcache.GetValue[string](ctx, sc, "k")).To(Equal("old"))
				Expect(change(site + "|k")).To(Succeed())
				Eventually(func(g Gomega) {
					v, err := clientcache.GetValue[string](ctx, sc, "k")
					if wantErr != nil {
						g.Expect(err).To(MatchError(wantErr))
						return
					}
					g.Expect(err).NotTo(HaveOccurred())
					g.Expect(v).To(Equal(want))
				}).WithTimeout(5 * time.Second).WithPolling(time.Millisecond).Should(Succeed())
			},
			Entry("SET", func(k string) error { return b.peer.Set(ctx, k, []byte(`"new"`), 0) }, "new", nil),
			Entry("DEL", func(k string) error { _, err := b.peer.Del(ctx, k); return err }, "", domain.ErrNotFound),
			Entry("EXPIRE", func(k string) error { _, err := b.peer.Expire(ctx, k, 20*time.Millisecond); return err }, "", domain.ErrNotFound),
			Entry("FLUSHALL", func(string) error { return b.flush(ctx) }, "", domain.ErrNotFound),
		)

		It("keeps its own writes locally and stays tracked", func() {
			Expect(sc.SetValue(ctx, "k", "mine")).To(Succeed())
			settle()
			before := counted.Calls()
			Expect(clientcache.GetValue[string](ctx, sc, "k")).To(Equal("mine"))
			Expect(counted.Calls()).To(Equal(before), "own write is a local hit")
			Expect(peer.SetValue(ctx, "k", "theirs")).To(Succeed())
			Eventually(func() (string, error) { return clientcache.GetValue[string](ctx, sc, "k") }).
				WithTimeout(5 * time.Second).WithPolling(time.Millisecond).Should(Equal("theirs"))
		})

		It("never stores a reply that raced an invalidation", func() {
			Expect(peer.SetValue(ctx, "k", "v1")).To(Succeed())
			Expect(peer.SetValue(ctx, "marker", 0)).To(Succeed())
			settle()
			Expect(clientcache.GetValue[int](ctx, sc, "marker")).To(Equal(0))
			invalidations := cc.Statistics().Invalidations
			paused, release := make(chan struct{}), make(chan struct{})
			counted.AfterFetch(func(_ context.Context, key string) {
				if key == site+"|k" {
					close(paused)
					<-release
				}
			})
			done := make(chan string)
			go func() {
				defer GinkgoRecover()
				v, err := clientcache.GetValue[string](ctx, sc, "k")
				Expect(err).NotTo(HaveOccurred())
				done <- v
			}()
			// The GET has its reply ("v1") in hand but has not published it.
			Eventually(paused).Should(BeClosed())
			counted.AfterFetch(nil)
			Expect(peer.SetValue(ctx, "k", "v2")).To(Succeed())
			Expect(peer.SetValue(ctx, "marker", 1)).To(Succeed())
			// Invalidations are applied in order: once the marker is
			// dropped, the invalidation of k has been applied too.
			Eventually(func() uint64 { return cc.Statistics().Invalidations }).Should(Equal(invalidations + 1))
			close(release)
			Expect(<-done).To(Equal("v1"), "the racing read itself answers what it read")
			gets := counted.CallsOf("Fetch")
			Expect(clientcache.GetValue[string](ctx, sc, "k")).To(Equal("v2"), "the stale reply was not stored")
			Expect(counted.CallsOf("Fetch")).To(Equal(gets + 1))
		})

		It("makes one backend call for concurrent misses of a key, generators included", func() {
			release := make(chan struct{})
			var entered atomic.Int32
			counted.OnCall("Fetch", func(context.Context, string) {
				if entered.Add(1) == 1 {
					<-release
				}
			})
			var gens atomic.Int32
			var wg sync.WaitGroup
			results := make([]int, 16)
			for i := range results {
				wg.Add(1)
				go func() {
					defer GinkgoRecover()
					defer wg.Done()
					v, err := clientcache.GetOrGenerate(ctx, sc, "k", func(context.Context) (int, error) {
						gens.Add(1)
						return 42, nil
					})
					Expect(err).NotTo(HaveOccurred())
					results[i] = v
				}()
			}
			Eventually(entered.Load).Should(BeNumerically(">=", 1))
			close(release)
			wg.Wait()
			Expect(gens.Load()).To(Equal(int32(1)))
			Expect(results).To(HaveEach(42))
			// Fetch (miss), SET, Fetch (to keep it tracked): nothing more.
			Expect(counted.CallsOf("Fetch")).To(Equal(int64(2)))
			Expect(counted.CallsOf("Set")).To(Equal(int64(1)))
		})

		It("bounds entries and bytes (exact accounting is proven in app/clientcache's own tests)", func() {
			start(clientcache.Config{MaxEntries: 8, MaxBytes: 2000})
			val := func(n int) string { return fmt.Sprintf("%0*d", n, 0) }
			for i := range 20 {
				Expect(sc.SetValue(ctx, fmt.Sprint("e", i), val(10))).To(Succeed())
			}
			st := cc.Statistics()
			Expect(st.Used).To(Equal(8))
			// 12 values went: pushed out, or not admitted (W-TinyLFU keeps
			// residents that newcomers are not more popular than).
			Expect(st.Evictions + st.NotAdmitted).To(Equal(uint64(12)))
			for i := range 4 {
				Expect(sc.SetValue(ctx, fmt.Sprint("big", i), val(600))).To(Succeed())
			}
			st = cc.Statistics()
			Expect(st.Bytes).To(BeNumerically("<=", 2000))
			Expect(st.Used).To(BeNumerically("<=", 8))
			checkBytes := func() {
				GinkgoHelper()
				st := cc.Statistics()
				Expect(st.Bytes).To(BeNumerically("<=", 2000))
				Expect(st.Used).To(BeNumerically("<=", 8))
				Expect(st.Bytes >= 0 && (st.Used == 0) == (st.Bytes == 0)).To(BeTrue(), "%+v", st)
			}
			checkBytes()
			Expect(sc.SetValue(ctx, "big3", val(100))).To(Succeed()) // overwrite
			checkBytes()
			Expect(sc.DeleteValue(ctx, "big3")).To(Succeed())
			checkBytes()
			Expect(peer.SetValue(ctx, "big2", "x")).To(Succeed()) // invalidation
			settle()
			checkBytes()
			cc.ClearCache()
			Expect(cc.Statistics().Bytes).To(BeZero())
			Expect(cc.Statistics().Used).To(BeZero())
		})

		It("stays within its bounds under a long random workload", func() {
			start(clientcache.Config{MaxEntries: 64, MaxBytes: 16 << 10})
			r := rand.New(rand.NewPCG(1, 2))
			for i := range 5000 {
				k := fmt.Sprint("r", r.IntN(300))
				switch r.IntN(4) {
				case 0:
					Expect(sc.SetValue(ctx, k, string(make([]byte, r.IntN(800))))).To(Succeed())
				case 1:
					Expect(sc.DeleteValue(ctx, k)).To(Succeed())
				default:
					_, err := clientcache.GetValue[string](ctx, sc, k)
					if err != nil {
						Expect(err).To(MatchError(domain.ErrNotFound))
					}
				}
				if i%500 == 0 {
					st := cc.Statistics()
					Expect(st.Used).To(BeNumerically("<=", 64))
					Expect(st.Bytes).To(BeNumerically("<=", 16<<10))
				}
			}
		})

		It("passes through, serving nothing local, after Stop and recovers on Start", func() {
			Expect(peer.SetValue(ctx, "k", "v")).To(Succeed())
			Expect(clientcache.GetValue[string](ctx, sc, "k")).To(Equal("v"))
			Expect(cc.Stop(ctx)).To(Succeed())
			Expect(cc.Healthy()).To(BeFalse())
			before := counted.Calls()
			Expect(clientcache.GetValue[string](ctx, sc, "k")).To(Equal("v"))
			Expect(counted.Calls()).To(Equal(before + 1))
			Expect(cc.Start(ctx)).To(Succeed())
			Expect(cc.Healthy()).To(BeTrue())
		})

		It("reads documents with GetDoc under document_cache::<doctype>::<name>", func() {
			loads := 0
			load := func(_ context.Context, doctype, name string) (map[string]string, error) {
				loads++
				return map[string]string{"doctype": doctype, "name": name}, nil
			}
			d, err := clientcache.GetDoc(ctx, sc, "System Settings", "", load)
			Expect(err).NotTo(HaveOccurred())
			Expect(d).To(Equal(map[string]string{"doctype": "System Settings", "name": "System Settings"}))
			_, err = clientcache.GetDoc(ctx, sc, "System Settings", "", load)
			Expect(err).NotTo(HaveOccurred())
			Expect(loads).To(Equal(1))
			Expect(peer.Exists(ctx, "document_cache::System Settings::System Settings")).To(BeTrue())
		})

		It("deletes keys by prefix locally and remotely", func() {
			for i := range 5 {
				Expect(sc.SetValue(ctx, fmt.Sprint("p:", i), i)).To(Succeed())
			}
			Expect(sc.SetValue(ctx, "q", 1)).To(Succeed())
			Expect(sc.DeleteKeys(ctx, "p:")).To(Equal(int64(5)))
			_, err := clientcache.GetValue[int](ctx, sc, "p:1")
			Expect(err).To(MatchError(domain.ErrNotFound))
			Expect(clientcache.GetValue[int](ctx, sc, "q")).To(Equal(1))
		})
	})...)
}

var _ = describeClientCache("memory", func(ctx context.Context) ccBackend {
	store := memory.New(memory.Config{})
	peer := store.Peer()
	return ccBackend{store: store, peer: peer, flush: store.FlushAll,
		close: func() error { return errors.Join(peer.Close(), store.Close()) }}
}, Label("memory", "clientcache"))
