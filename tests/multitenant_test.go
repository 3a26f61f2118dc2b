package tests

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/redis/go-redis/v9"

	"github.com/rediscache/rediscache/adapters/connection"
	"github.com/rediscache/rediscache/adapters/memory"
	"github.com/rediscache/rediscache/adapters/sentinel"
	"github.com/rediscache/rediscache/adapters/standalone"
	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/app/clientcache"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
	"github.com/rediscache/rediscache/tests/conformance"
	"github.com/rediscache/rediscache/tests/redistest"
)

// The ClientCache as a real host runs it: many sites in one process, writes
// through every path of that process and from other processes, pool sizes
// above one, volatile keys. Every spec here failed on the design before
// "one transport per server" (see the list in ARCHITECTURE.md,
// "Guarantees").

// hostBackend is one process's store on a real server (or the memory DB),
// another process's client of the same data, and the server to inspect.
type hostBackend struct {
	name  string
	store interface {
		ports.TrackedStore
		TrackingID() int64
	}
	peer  ports.Store
	srv   func() *redistest.Server // nil for memory
	close func() error
}

const (
	hostPoolSize     = 8
	hostTrackingPool = 4
	peerPoolSize     = 4
)

// hostClientName names the connections of the process under test, so that
// CLIENT LIST tells them from the replica's, the sentinels' and redis-cli's.
const hostClientName = "rediscache-host"

func hostConn() connection.Options {
	return connection.Options{PoolSize: hostPoolSize, TrackingPoolSize: hostTrackingPool, ClientName: hostClientName}
}

func standaloneHost(srv *redistest.Server) hostBackend {
	GinkgoHelper()
	store, err := standalone.New(standalone.Config{Addr: srv.Addr(), Connection: hostConn()})
	Expect(err).NotTo(HaveOccurred())
	peer, err := standalone.New(standalone.Config{Addr: srv.Addr(), Connection: connection.Options{PoolSize: peerPoolSize, ClientName: hostClientName}})
	Expect(err).NotTo(HaveOccurred())
	return hostBackend{name: "standalone", store: store, peer: peer,
		srv:   func() *redistest.Server { return srv },
		close: func() error { return errors.Join(peer.Close(), store.Close()) }}
}

func sentinelHost() hostBackend {
	GinkgoHelper()
	cfg := sentinelConfig()
	cfg.Connection = hostConn()
	store, err := sentinel.New(cfg)
	Expect(err).NotTo(HaveOccurred())
	pcfg := sentinelConfig()
	pcfg.Connection.PoolSize = peerPoolSize
	pcfg.Connection.ClientName = hostClientName
	peer, err := sentinel.New(pcfg)
	Expect(err).NotTo(HaveOccurred())
	return hostBackend{name: "sentinel", store: store, peer: peer,
		srv:   sentinelTopology.Master,
		close: func() error { return errors.Join(peer.Close(), store.Close()) }}
}

// memoryStore adds TrackingID to a memory store (a memory handle has one
// tracking that never changes).
type memoryStore struct{ *memory.Store }

func (memoryStore) TrackingID() int64 { return 1 }

func memoryHost() hostBackend {
	store := memory.New(memory.Config{})
	peer := store.Peer()
	return hostBackend{name: "memory", store: memoryStore{store}, peer: peer,
		close: func() error { return errors.Join(peer.Close(), store.Close()) }}
}

// countTracking counts, on the server, the listeners (the connection whose
// ID is the store's TrackingID), the tracked connections (those that
// redirect to it) and all the process's clients (named hostClientName: the
// replica's, the sentinels' and redis-cli's connections are not its own).
func countTracking(srv *redistest.Server, id int64) (listeners, tracked, all int) {
	GinkgoHelper()
	want := strconv.FormatInt(id, 10)
	for _, c := range clientList(srv) {
		if c["name"] == hostClientName {
			all++
		}
		switch {
		case c["id"] == want:
			listeners++
		case c["redir"] == want:
			tracked++
		}
	}
	return listeners, tracked, all
}

func describeHost(name string, newHost func() hostBackend, labels ...any) bool {
	return Describe("ClientCache in a multi-site process on "+name, append(labels, func() {
		var (
			ctx context.Context
			h   hostBackend
		)
		BeforeEach(func() {
			ctx = context.Background()
			h = newHost()
			DeferCleanup(h.close)
		})

		It("serves 50 sites with one tracking connection and fresh reads under writers from every side", func() {
			const (
				sites     = 50
				keys      = 6
				inWriters = 4
				exWriters = 2
				readers   = 4
				loadFor   = 3 * time.Second
			)
			// One process-wide ClientCache for 45 sites, and 5 more
			// ClientCaches over the same store (a host that made one per
			// site): none may end the others' tracking.
			main, err := clientcache.New(h.store, clientcache.Config{MaxEntries: 4096})
			Expect(err).NotTo(HaveOccurred())
			Expect(main.Start(ctx)).To(Succeed())
			DeferCleanup(main.Stop)
			caches := []*clientcache.ClientCache{main}
			prefix := conformance.Prefix()
			type siteRig struct {
				cc    *clientcache.Site
				plain *app.Cache // the process's plain Cache, same store
				peer  *app.Cache // another process
				acked []atomic.Int64
			}
			rigs := make([]*siteRig, sites)
			for i := range rigs {
				cc := main
				if i >= sites-5 {
					cc, err = clientcache.New(h.store, clientcache.Config{})
					Expect(err).NotTo(HaveOccurred())
					Expect(cc.Start(ctx)).To(Succeed())
					DeferCleanup(cc.Stop)
					caches = append(caches, cc)
				}
				name := fmt.Sprintf("%ssite%d", prefix, i)
				s, err := cc.Site(name)
				Expect(err).NotTo(HaveOccurred())
				plain, err := app.New(h.store, app.Config{Site: name})
				Expect(err).NotTo(HaveOccurred())
				peer, err := app.New(h.peer, app.Config{Site: name})
				Expect(err).NotTo(HaveOccurred())
				rigs[i] = &siteRig{cc: s, plain: plain, peer: peer, acked: make([]atomic.Int64, keys)}
			}
			id := h.store.TrackingID()
			Expect(id).NotTo(BeZero())

			// Versions only grow per (site, key): writers claim the next
			// one, and a write is acknowledged by raising acked. A read that
			// starts after an in-process write returned must see at least
			// its version; another process's write is seen once its
			// invalidation arrives (checked as eventual freshness below).
			var next sync.Map // "site/key" -> *atomic.Int64
			claim := func(s, k int) int64 {
				c, _ := next.LoadOrStore(strconv.Itoa(s)+"/"+strconv.Itoa(k), new(atomic.Int64))
				return c.(*atomic.Int64).Add(1)
			}
			raise := func(a *atomic.Int64, v int64) {
				for {
					cur := a.Load()
					if v <= cur || a.CompareAndSwap(cur, v) {
						return
					}
				}
			}
			var (
				mu         sync.Mutex
				violations []string
				reads      atomic.Int64
				inWrites   atomic.Int64
				exWrites   atomic.Int64
			)
			violate := func(format string, args ...any) {
				mu.Lock()
				defer mu.Unlock()
				if len(violations) < 10 {
					violations = append(violations, fmt.Sprintf(format, args...))
				}
			}
			lctx, cancel := context.WithTimeout(ctx, loadFor)
			defer cancel()
			var wg sync.WaitGroup
			// In-process writers: keys 0..3, through the plain Caches. A
			// write of the same key by two writers may land in either order,
			// so a key's writes are serialised (the floor is exact).
			locks := make([]sync.Mutex, sites*keys)
			for w := range inWriters {
				wg.Go(func() {
					defer GinkgoRecover()
					r := rand.New(rand.NewPCG(uint64(w), 1))
					for lctx.Err() == nil {
						s, k := r.IntN(sites), r.IntN(keys-2)
						locks[s*keys+k].Lock()
						v := claim(s, k)
						err := rigs[s].plain.SetValue(ctx, "k"+strconv.Itoa(k), v)
						if err == nil {
							raise(&rigs[s].acked[k], v)
						}
						locks[s*keys+k].Unlock()
						if err != nil {
							violate("in-process write: %v", err)
						}
						inWrites.Add(1)
					}
				})
			}
			// Other processes' writers: keys 4..5.
			for w := range exWriters {
				wg.Go(func() {
					defer GinkgoRecover()
					r := rand.New(rand.NewPCG(uint64(w), 2))
					for lctx.Err() == nil {
						s, k := r.IntN(sites), keys-2+r.IntN(2)
						locks[s*keys+k].Lock()
						v := claim(s, k)
						err := rigs[s].peer.SetValue(ctx, "k"+strconv.Itoa(k), v)
						if err == nil {
							raise(&rigs[s].acked[k], v)
						}
						locks[s*keys+k].Unlock()
						if err != nil {
							violate("foreign write: %v", err)
						}
						exWrites.Add(1)
					}
				})
			}
			for rd := range readers {
				wg.Go(func() {
					defer GinkgoRecover()
					r := rand.New(rand.NewPCG(uint64(rd), 3))
					last := make([]int64, sites*keys)
					for lctx.Err() == nil {
						s, k := r.IntN(sites), r.IntN(keys)
						floor := rigs[s].acked[k].Load()
						v, err := clientcache.GetValue[int64](ctx, rigs[s].cc, "k"+strconv.Itoa(k))
						reads.Add(1)
						switch {
						case errors.Is(err, domain.ErrNotFound):
							v = 0
						case err != nil:
							violate("read: %v", err)
							continue
						}
						if v < last[s*keys+k] {
							violate("site %d k%d went back from %d to %d", s, k, last[s*keys+k], v)
						}
						last[s*keys+k] = v
						if k < keys-2 && v < floor {
							violate("site %d k%d read %d after the process's own write of %d had returned", s, k, v, floor)
						}
					}
				})
			}
			// Throughout: every cache healthy, one listener, a bounded
			// number of connections, one tracking session.
			maxAll := 0
			for lctx.Err() == nil {
				for _, cc := range caches {
					if !cc.Healthy() {
						violate("a cache was not healthy during the load")
					}
				}
				if h.store.TrackingID() != id {
					violate("the tracking session changed during the load")
				}
				if h.srv != nil {
					l, tr, all := countTracking(h.srv(), id)
					if l != 1 || tr > hostTrackingPool {
						violate("%d listeners and %d tracked connections, want 1 and at most %d", l, tr, hostTrackingPool)
					}
					maxAll = max(maxAll, all)
				}
				select {
				case <-lctx.Done():
				case <-time.After(100 * time.Millisecond): // sampling pace
				}
			}
			wg.Wait()
			// The foreign writes are seen, each by its invalidation.
			for s, rig := range rigs {
				for k := keys - 2; k < keys; k++ {
					want := rig.acked[k].Load()
					Eventually(func() (int64, error) {
						v, err := clientcache.GetValue[int64](ctx, rig.cc, "k"+strconv.Itoa(k))
						if errors.Is(err, domain.ErrNotFound) {
							return 0, nil
						}
						return v, err
					}).WithTimeout(5*time.Second).WithPolling(time.Millisecond).Should(Equal(want), "site %d k%d", s, k)
				}
			}
			// Every client: the two pools, one listener, the tracked
			// connections, one erase subscription per ClientCache.
			bound := hostPoolSize + peerPoolSize + 1 + hostTrackingPool + len(caches)
			fmt.Fprintf(GinkgoWriter, "%s: %d reads, %d in-process and %d foreign writes over %d sites; at most %d clients (bound %d)\n",
				h.name, reads.Load(), inWrites.Load(), exWrites.Load(), sites, maxAll, bound)
			Expect(violations).To(BeEmpty())
			Expect(reads.Load()).To(BeNumerically(">", 1000))
			Expect(maxAll).To(BeNumerically("<=", bound))
			st := main.Statistics()
			Expect(st.Hits).To(BeNumerically(">", 0), "nothing was served locally")
		})

		// writePaths are the ways the process writes a key that a
		// ClientCache of the same store holds: each must be reflected by
		// the ClientCache before the write call returns.
		type writePath struct {
			name string
			// write changes key (of site) to v; want is what GetValue must
			// then return (or wantErr).
			write   func(ctx context.Context, plain *app.Cache, store ports.Store, other *clientcache.Site, key string, v int64) error
			gone    bool  // the key no longer holds v
			wantErr error // instead of a value
		}
		full := func(plain *app.Cache, key string) string {
			k, err := plain.MakeKey(key)
			Expect(err).NotTo(HaveOccurred())
			return k
		}
		paths := []writePath{
			{name: "Cache.SetValue", write: func(ctx context.Context, p *app.Cache, _ ports.Store, _ *clientcache.Site, k string, v int64) error {
				return p.SetValue(ctx, k, v)
			}},
			{name: "Cache.SetValue with Expires", write: func(ctx context.Context, p *app.Cache, _ ports.Store, _ *clientcache.Site, k string, v int64) error {
				return p.SetValue(ctx, k, v, app.Expires(time.Hour))
			}},
			{name: "Cache.SetRaw", write: func(ctx context.Context, p *app.Cache, _ ports.Store, _ *clientcache.Site, k string, v int64) error {
				return p.SetRaw(ctx, k, []byte(strconv.FormatInt(v, 10)))
			}},
			{name: "the injected ports.KeyValue's Set", write: func(ctx context.Context, p *app.Cache, s ports.Store, _ *clientcache.Site, k string, v int64) error {
				return s.Set(ctx, full(p, k), []byte(strconv.FormatInt(v, 10)), 0)
			}},
			{name: "another ClientCache's Site.SetValue", write: func(ctx context.Context, _ *app.Cache, _ ports.Store, o *clientcache.Site, k string, v int64) error {
				return o.SetValue(ctx, k, v)
			}},
			{name: "Cache.DeleteValue", gone: true, wantErr: domain.ErrNotFound, write: func(ctx context.Context, p *app.Cache, _ ports.Store, _ *clientcache.Site, k string, _ int64) error {
				return p.DeleteValue(ctx, k)
			}},
			{name: "Cache.DeleteValues", gone: true, wantErr: domain.ErrNotFound, write: func(ctx context.Context, p *app.Cache, _ ports.Store, _ *clientcache.Site, k string, _ int64) error {
				return p.DeleteValues(ctx, []string{k, k + "-other"})
			}},
			{name: "Cache.DeleteKeys", gone: true, wantErr: domain.ErrNotFound, write: func(ctx context.Context, p *app.Cache, _ ports.Store, _ *clientcache.Site, k string, _ int64) error {
				_, err := p.DeleteKeys(ctx, k)
				return err
			}},
			{name: "the injected ports.KeyValue's Del", gone: true, wantErr: domain.ErrNotFound, write: func(ctx context.Context, p *app.Cache, s ports.Store, _ *clientcache.Site, k string, _ int64) error {
				_, err := s.Del(ctx, full(p, k))
				return err
			}},
			{name: "Cache.ExpireKey (then the key expires)", gone: true, wantErr: domain.ErrNotFound, write: func(ctx context.Context, p *app.Cache, _ ports.Store, _ *clientcache.Site, k string, _ int64) error {
				if _, err := p.ExpireKey(ctx, k, 20*time.Millisecond); err != nil {
					return err
				}
				time.Sleep(25 * time.Millisecond) // the key's lifetime passes
				return nil
			}},
			{name: "Cache.DeleteValue and HSet (another type)", gone: true, wantErr: domain.ErrWrongType, write: func(ctx context.Context, p *app.Cache, _ ports.Store, _ *clientcache.Site, k string, v int64) error {
				if err := p.DeleteValue(ctx, k); err != nil {
					return err
				}
				return p.HSet(ctx, k, "f", v)
			}},
			{name: "the injected ports.List's RPush after Del", gone: true, wantErr: domain.ErrWrongType, write: func(ctx context.Context, p *app.Cache, s ports.Store, _ *clientcache.Site, k string, _ int64) error {
				if _, err := s.Del(ctx, full(p, k)); err != nil {
					return err
				}
				_, err := s.RPush(ctx, full(p, k), "x")
				return err
			}},
		}

		It("reflects every write the process makes, through any path, before the write returns", func() {
			cc, err := clientcache.New(h.store, clientcache.Config{})
			Expect(err).NotTo(HaveOccurred())
			Expect(cc.Start(ctx)).To(Succeed())
			DeferCleanup(cc.Stop)
			other, err := clientcache.New(h.store, clientcache.Config{})
			Expect(err).NotTo(HaveOccurred())
			Expect(other.Start(ctx)).To(Succeed())
			DeferCleanup(other.Stop)
			site := conformance.Prefix() + "site"
			s, err := cc.Site(site)
			Expect(err).NotTo(HaveOccurred())
			o, err := other.Site(site)
			Expect(err).NotTo(HaveOccurred())
			plain, err := app.New(h.store, app.Config{Site: site})
			Expect(err).NotTo(HaveOccurred())

			const goroutines, rounds = 6, 15
			var mu sync.Mutex
			var failures []string
			for _, p := range paths {
				var wg sync.WaitGroup
				for g := range goroutines {
					wg.Go(func() {
						defer GinkgoRecover()
						key := fmt.Sprintf("%s/%d", p.name, g)
						for r := range rounds {
							v := int64(r + 1)
							// The ClientCache holds the key (a value, or a
							// remembered miss for the type-changing paths).
							_ = plain.DeleteValue(ctx, key)
							Expect(plain.SetValue(ctx, key, v*1000)).To(Succeed())
							got, err := clientcache.GetValue[int64](ctx, s, key)
							Expect(err).NotTo(HaveOccurred())
							Expect(got).To(Equal(v * 1000))
							if err := p.write(ctx, plain, h.store, o, key, v); err != nil {
								mu.Lock()
								failures = append(failures, fmt.Sprintf("%s: write: %v", p.name, err))
								mu.Unlock()
								return
							}
							got, err = clientcache.GetValue[int64](ctx, s, key)
							var bad string
							switch {
							case p.wantErr != nil && !errors.Is(err, p.wantErr):
								bad = fmt.Sprintf("read %d, %v after the write; want %v", got, err, p.wantErr)
							case p.wantErr == nil && (err != nil || got != v):
								bad = fmt.Sprintf("read %d, %v after writing %d", got, err, v)
							}
							if bad != "" {
								mu.Lock()
								failures = append(failures, p.name+": "+bad)
								mu.Unlock()
								return
							}
						}
					})
				}
				wg.Wait()
			}
			Expect(failures).To(BeEmpty())
		})

		It("never serves a value past its key's TTL, among many volatile keys", func() {
			if h.srv == nil {
				Skip("the memory backend expires keys exactly: this spec is about Redis' lazy expiry")
			}
			// Fill the server with volatile keys, as a host does: Redis'
			// active expiry then takes minutes to reach a given key, and no
			// invalidation comes before it does.
			loadVolatileKeys(ctx, h.store, 300_000)
			cc, err := clientcache.New(h.store, clientcache.Config{})
			Expect(err).NotTo(HaveOccurred())
			Expect(cc.Start(ctx)).To(Succeed())
			DeferCleanup(cc.Stop)
			s, err := cc.Site(conformance.Prefix() + "site")
			Expect(err).NotTo(HaveOccurred())
			start := time.Now()
			for i := range 5 {
				Expect(s.SetValue(ctx, fmt.Sprint("short", i), i, app.Expires(time.Second))).To(Succeed())
			}
			for i := range 5 {
				Expect(clientcache.GetValue[int](ctx, s, fmt.Sprint("short", i))).To(Equal(i))
			}
			Expect(cc.Statistics().Hits).To(BeNumerically(">=", 5), "the values were served locally while their keys lived")
			time.Sleep(time.Until(start.Add(1500 * time.Millisecond))) // the keys' lifetime passes
			for i := range 5 {
				_, err := clientcache.GetValue[int](ctx, s, fmt.Sprint("short", i))
				Expect(err).To(MatchError(domain.ErrNotFound), "short%d served after its key expired", i)
			}
		})
	})...)
}

// loadVolatileKeys stores n keys with a one-hour TTL through store's
// go-redis client, pipelined.
func loadVolatileKeys(ctx context.Context, store ports.Store, n int) {
	GinkgoHelper()
	cl, ok := store.(interface{ Client() redis.UniversalClient })
	Expect(ok).To(BeTrue(), "%T has no go-redis client", store)
	prefix := conformance.Prefix() + "volatile:"
	const batch = 10_000
	for i := 0; i < n; i += batch {
		p := cl.Client().Pipeline()
		for j := i; j < min(i+batch, n); j++ {
			p.Set(ctx, prefix+strconv.Itoa(j), "v", time.Hour)
		}
		_, err := p.Exec(ctx)
		Expect(err).NotTo(HaveOccurred())
	}
	DeferCleanup(func(ctx context.Context) {
		// Drop them (UNLINK, in the background on the server).
		_ = store.Scan(ctx, domain.EscapeGlob(prefix)+"*", 10_000, func(keys []string) error {
			_, err := store.Del(ctx, keys...)
			return err
		})
	})
}

var _ = describeHost("standalone", func() hostBackend { return standaloneHost(standaloneServer) },
	Label("redis", "standalone", "clientcache", "multitenant"))

var _ = describeHost("sentinel", sentinelHost, Label("redis", "sentinel", "clientcache", "multitenant"))

var _ = describeHost("memory", memoryHost, Label("memory", "clientcache", "multitenant"))

// What a closed or slow connection costs the ClientCache, on a server of
// its own per spec (the specs pause it and count its clients).
var _ = Describe("ClientCache connections on standalone", Label("redis", "standalone", "clientcache", "multitenant"), func() {
	var (
		ctx   context.Context
		srv   *redistest.Server
		store *standalone.Store
		cc    *clientcache.ClientCache
		site  *clientcache.Site
		plain *app.Cache
	)
	setup := func(conn connection.Options) {
		GinkgoHelper()
		ctx = context.Background()
		srv = redistest.StartServer(GinkgoT())
		var err error
		store, err = standalone.New(standalone.Config{Addr: srv.Addr(), Connection: conn})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(store.Close)
		cc, err = clientcache.New(store, clientcache.Config{})
		Expect(err).NotTo(HaveOccurred())
		Expect(cc.Start(ctx)).To(Succeed())
		DeferCleanup(cc.Stop)
		site, err = cc.Site("site")
		Expect(err).NotTo(HaveOccurred())
		plain, err = app.New(store, app.Config{Site: "site"})
		Expect(err).NotTo(HaveOccurred())
	}
	// warm stores n keys and reads each through the ClientCache twice: n
	// entries, held locally.
	warm := func(n int) {
		GinkgoHelper()
		for i := range n {
			Expect(plain.SetValue(ctx, fmt.Sprint("k", i), i)).To(Succeed())
		}
		for range 2 {
			for i := range n {
				Expect(clientcache.GetValue[int](ctx, site, fmt.Sprint("k", i))).To(Equal(i))
			}
		}
		st := cc.Statistics()
		Expect(st.Used).To(Equal(n))
		Expect(st.Hits).To(BeNumerically(">=", n))
	}

	It("tracks only what the ClientCache reads: 10,000 plain reads leave the tracking table alone", func() {
		setup(connection.Options{})
		for i := range 100 {
			Expect(plain.SetValue(ctx, fmt.Sprint("plain", i), i)).To(Succeed())
		}
		for i := range 10_000 {
			_, err := app.GetValue[int](ctx, plain, fmt.Sprint("plain", i%100))
			Expect(err).NotTo(HaveOccurred())
		}
		const cached = 37
		for i := range cached {
			for range 3 {
				_, _ = clientcache.GetValue[int](ctx, site, fmt.Sprint("cached", i))
			}
		}
		Expect(infoStat(srv, "tracking_total_keys")).To(Equal(strconv.Itoa(cached)))
	})

	It("drops nothing when one of the host's commands times out", func() {
		setup(connection.Options{})
		warm(200)
		// A read with a deadline too short for any reply: the command is
		// cancelled mid-flight and its connection closed.
		short, cancel := context.WithTimeout(ctx, time.Microsecond)
		defer cancel()
		_, err := plain.GetRaw(short, "unrelated")
		Expect(err).To(MatchError(context.DeadlineExceeded))
		Expect(plain.SetValue(ctx, "unrelated", 1)).To(Succeed())
		st := cc.Statistics()
		Expect(st.Dropped).To(BeZero())
		Expect(st.Used).To(Equal(200)) // "unrelated" was never read through the cache
	})

	It("drops nothing when the host's pool rotates (1 s lifetime) or reaps idle connections", func() {
		setup(connection.Options{ConnMaxLifetime: time.Second, ConnMaxIdleTime: 200 * time.Millisecond})
		warm(100)
		cc.ResetStatistics()
		deadline := time.Now().Add(2500 * time.Millisecond)
		for i := 0; time.Now().Before(deadline); i++ {
			// The host's own traffic keeps its pool busy, then quiet.
			_, _ = plain.GetRaw(ctx, "unrelated")
			_, err := clientcache.GetValue[int](ctx, site, fmt.Sprint("k", i%100))
			Expect(err).NotTo(HaveOccurred())
			if i%500 == 0 {
				time.Sleep(300 * time.Millisecond) // a quiet period: the reaper closes idle connections
			}
		}
		st := cc.Statistics()
		Expect(st.Dropped).To(BeZero(), "rotating the host's connections cost the cache entries")
		Expect(st.Misses).To(BeZero(), "%d misses after the warm-up", st.Misses)
	})

	It("drops only the values fetched on a tracked connection the server closes", func() {
		setup(connection.Options{TrackingPoolSize: 2})
		// Fetch concurrently, so that both tracked connections hold values.
		for i := range 200 {
			Expect(plain.SetValue(ctx, fmt.Sprint("k", i), i)).To(Succeed())
		}
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				defer GinkgoRecover()
				for i := g; i < 200; i += 8 {
					_, err := clientcache.GetValue[int](ctx, site, fmt.Sprint("k", i))
					Expect(err).NotTo(HaveOccurred())
				}
			})
		}
		wg.Wait()
		Expect(cc.Statistics().Used).To(Equal(200))
		session := store.TrackingID()
		id := strconv.FormatInt(session, 10)
		var tracked []string
		for _, c := range clientList(srv) {
			if c["redir"] == id {
				tracked = append(tracked, c["id"])
			}
		}
		Expect(tracked).To(HaveLen(2), "both tracked connections in use")
		_, err := srv.Do("CLIENT", "KILL", "ID", tracked[0])
		Expect(err).NotTo(HaveOccurred())
		// Noticed without a fetch (the periodic check), and only that
		// connection's values go.
		Eventually(func() uint64 { return cc.Statistics().Dropped }).WithTimeout(5 * time.Second).
			WithPolling(time.Millisecond).Should(BeNumerically(">", 0))
		st := cc.Statistics()
		Expect(st.Dropped).To(BeNumerically("<", 200), "every value was dropped for one connection")
		Expect(st.Used).To(Equal(200 - int(st.Dropped)))
		fmt.Fprintf(GinkgoWriter, "killing one of two tracked connections dropped %d of 200 entries\n", st.Dropped)
		Expect(store.TrackingID()).To(Equal(session), "a tracked connection's loss ended the session")
	})

	It("answers within a 50 ms deadline during a 700 ms CLIENT PAUSE, dropping nothing", func() {
		setup(connection.Options{})
		warm(50)
		_, err := srv.Do("CLIENT", "PAUSE", "700", "ALL")
		Expect(err).NotTo(HaveOccurred())
		paused := time.Now()
		for _, read := range []struct {
			name string
			call func(context.Context) error
		}{
			{"a ClientCache miss", func(ctx context.Context) error {
				_, err := clientcache.GetValue[int](ctx, site, "not-cached")
				return err
			}},
			{"a plain Cache read", func(ctx context.Context) error {
				_, err := plain.GetRaw(ctx, "k1")
				return err
			}},
			{"a plain Cache write", func(ctx context.Context) error { return plain.SetValue(ctx, "other", 1) }},
		} {
			dctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
			start := time.Now()
			err := read.call(dctx)
			took := time.Since(start)
			cancel()
			Expect(err).To(MatchError(context.DeadlineExceeded), read.name)
			Expect(took).To(BeNumerically("<", 100*time.Millisecond), read.name)
		}
		// A hit needs no server.
		Expect(clientcache.GetValue[int](ctx, site, "k1")).To(Equal(1))
		Expect(time.Since(paused)).To(BeNumerically("<", 700*time.Millisecond), "the pause ended before the checks")
		// After the pause: nothing unrelated was dropped, and the detached
		// fetch of the miss completed and was kept.
		Eventually(func() int { return cc.Statistics().Used }).WithTimeout(5 * time.Second).Should(Equal(51))
		Expect(cc.Statistics().Dropped).To(BeZero())
		Expect(cc.Healthy()).To(BeTrue())
	})
})

// infoStat returns a field of INFO stats.
func infoStat(srv *redistest.Server, field string) string {
	GinkgoHelper()
	out, err := srv.Do("INFO", "stats")
	Expect(err).NotTo(HaveOccurred())
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v
		}
	}
	Fail("INFO stats has no " + field)
	return ""
}
