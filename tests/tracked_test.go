package tests

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/rediscache/rediscache/adapters/standalone"
	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/app/clientcache"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/tests/conformance"
	"github.com/rediscache/rediscache/tests/redistest"
	"github.com/rediscache/rediscache/tests/storetest"
)

// recoveryTimeout bounds how long the ClientCache may take to notice a
// fault and be back on a new tracking session.
const recoveryTimeout = 10 * time.Second

// newTrackedPair returns a store and a plain peer store (another process's
// client) on srv. opts go to the first.
func newTrackedPair(srv *redistest.Server, opts ...standalone.Option) (*standalone.Store, *standalone.Store, error) {
	store, err := standalone.New(standalone.Config{Addr: srv.Addr()}, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("store: %w", err)
	}
	peer, err := standalone.New(standalone.Config{Addr: srv.Addr()})
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("peer: %w", err), store.Close())
	}
	return store, peer, nil
}

// The ClientCache shares the store's tracking with the Tracker specs'
// recorder: the suite runs whole through it.
var _ = conformance.Describe("clientcache over standalone", clientCacheFactory(standaloneFactory),
	conformance.Features{Suggest: true}, Label("redis", "standalone", "clientcache"))

var _ = describeClientCache("standalone", func(context.Context) ccBackend {
	GinkgoHelper()
	store, peer, err := newTrackedPair(standaloneServer)
	Expect(err).NotTo(HaveOccurred())
	return ccBackend{
		store: store,
		peer:  peer,
		flush: func(ctx context.Context) error {
			_, err := standaloneServer.Do("FLUSHALL")
			return err
		},
		close: func() error { return errors.Join(peer.Close(), store.Close()) },
	}
}, Label("redis", "standalone", "clientcache"))

// The faults a tracking session must survive, on a ClientCache over a
// tracked standalone store.
var _ = Describe("ClientCache over a tracked standalone store, under faults", Label("redis", "standalone", "clientcache", "tracking"), func() {
	var (
		ctx     context.Context
		srv     *redistest.Server
		store   *standalone.Store
		counted *storetest.Store
		cc      *clientcache.ClientCache
		sc      *clientcache.Site
		peer    *app.Cache
		site    string
		logs    *observer.ObservedLogs
	)
	// setup builds the stores and a started ClientCache on server s.
	setup := func(s *redistest.Server, opts ...clientcache.Option) {
		GinkgoHelper()
		srv = s
		var plain *standalone.Store
		var err error
		var core zapcore.Core
		core, logs = observer.New(zap.InfoLevel)
		store, plain, err = newTrackedPair(srv, standalone.WithLogger(zap.New(core)))
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() error { return errors.Join(plain.Close(), store.Close()) })
		site = conformance.Prefix() + "site"
		counted = storetest.Wrap(store)
		peer, err = app.New(plain, app.Config{Site: site})
		Expect(err).NotTo(HaveOccurred())
		cc, err = clientcache.New(counted, clientcache.Config{}, append(opts, clientcache.WithLogger(zap.New(core)))...)
		Expect(err).NotTo(HaveOccurred())
		Expect(cc.Start(ctx)).To(Succeed())
		sc, err = cc.Site(site)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func(ctx context.Context) error { return cc.Stop(ctx) })
		Expect(cc.Healthy()).To(BeTrue())
		Expect(store.TrackingID()).NotTo(BeZero())
	}
	// cachedLocally reads key twice and checks the second read made no
	// backend call.
	cachedLocally := func(key, want string) {
		GinkgoHelper()
		Expect(clientcache.GetValue[string](ctx, sc, key)).To(Equal(want))
		before := counted.Calls()
		Expect(clientcache.GetValue[string](ctx, sc, key)).To(Equal(want))
		Expect(counted.Calls()).To(Equal(before), "the second read was not local")
	}
	// recovery returns a condition that holds once the store has started a
	// new tracking session after a loss and the cache serves locally again.
	// (Comparing tracking IDs would not do: a restarted server hands out
	// the same IDs again.)
	recovery := func() func() bool {
		before := logs.FilterMessage("client tracking session started").Len()
		return func() bool {
			return cc.Healthy() && store.TrackingID() != 0 &&
				logs.FilterMessage("client tracking session started").Len() > before
		}
	}
	// tracksAgain checks that a peer's write is seen, through an
	// invalidation, after a local read.
	tracksAgain := func(key string) {
		GinkgoHelper()
		Expect(peer.SetValue(ctx, key, "before")).To(Succeed())
		// A miss of key remembered earlier goes with an invalidation.
		Eventually(func() (string, error) { return clientcache.GetValue[string](ctx, sc, key) }).
			WithTimeout(5 * time.Second).WithPolling(time.Millisecond).Should(Equal("before"))
		cachedLocally(key, "before")
		Expect(peer.SetValue(ctx, key, "after")).To(Succeed())
		Eventually(func() (string, error) { return clientcache.GetValue[string](ctx, sc, key) }).
			WithTimeout(5 * time.Second).WithPolling(time.Millisecond).Should(Equal("after"))
	}
	BeforeEach(func() { ctx = context.Background() })

	It("flushes and recovers by itself when the invalidation connection is killed", func() {
		setup(standaloneServer)
		Expect(peer.SetValue(ctx, "k", "v")).To(Succeed())
		cachedLocally("k", "v")
		old := store.TrackingID()
		recovered := recovery()

		start := time.Now()
		_, err := srv.Do("CLIENT", "KILL", "ID", strconv.FormatInt(old, 10))
		Expect(err).NotTo(HaveOccurred())
		Eventually(recovered).WithTimeout(recoveryTimeout).WithPolling(time.Millisecond).Should(BeTrue())
		AddReportEntry("CLIENT KILL of the invalidation connection to recovery", time.Since(start))

		// The local copy was dropped: the next read asks the backend.
		gets := counted.CallsOf("Fetch")
		Expect(clientcache.GetValue[string](ctx, sc, "k")).To(Equal("v"))
		Expect(counted.CallsOf("Fetch")).To(Equal(gets + 1))
		tracksAgain("k")
	})

	It("drops what a tracked connection fetched when it is killed, without a new session", func() {
		setup(standaloneServer)
		Expect(peer.SetValue(ctx, "k", "v")).To(Succeed())
		cachedLocally("k", "v")
		id := strconv.FormatInt(store.TrackingID(), 10)
		for _, c := range clientList(srv) {
			if c["redir"] == id {
				_, err := srv.Do("CLIENT", "KILL", "ID", c["id"])
				Expect(err).NotTo(HaveOccurred())
			}
		}
		// Redis forgot what the killed connection tracked: a peer's write
		// would go unreported, so the local copy must go, by itself.
		Eventually(func() uint64 { return cc.Statistics().Dropped }).
			WithTimeout(5 * time.Second).WithPolling(time.Millisecond).Should(BeNumerically(">=", 1))
		Expect(cc.Healthy()).To(BeTrue())
		Expect(strconv.FormatInt(store.TrackingID(), 10)).To(Equal(id))
		tracksAgain("k2")
	})

	It("never serves a value from before a server restart, and recovers by itself", func() {
		setup(redistest.StartServer(GinkgoT()))
		Expect(peer.SetValue(ctx, "k", "v")).To(Succeed())
		cachedLocally("k", "v")
		recovered := recovery()

		killed := time.Now()
		srv.Kill()
		srv.Restart(GinkgoT())
		restarted := time.Now()
		// The data set is empty now: no read may answer "v".
		Eventually(func() bool {
			v, err := clientcache.GetValue[string](ctx, sc, "k")
			Expect(v).NotTo(Equal("v"), "a value from before the restart was served")
			if err != nil {
				Expect(err).To(Or(MatchError(domain.ErrNotFound), MatchError(domain.ErrUnavailable)))
			}
			return recovered()
		}).WithTimeout(recoveryTimeout).WithPolling(time.Millisecond).Should(BeTrue())
		AddReportEntry("server restart: kill to recovery", time.Since(killed))
		AddReportEntry("server restart: back up to recovery", time.Since(restarted))
		_, err := clientcache.GetValue[string](ctx, sc, "k")
		Expect(err).To(MatchError(domain.ErrNotFound))
		tracksAgain("k")
	})

	It("drops everything on FLUSHALL from another client and stays on", func() {
		setup(redistest.StartServer(GinkgoT()))
		Expect(peer.SetValue(ctx, "a", "1")).To(Succeed())
		Expect(peer.SetValue(ctx, "b", "2")).To(Succeed())
		cachedLocally("a", "1")
		cachedLocally("b", "2")
		id := store.TrackingID()
		_, err := srv.Do("FLUSHALL")
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() uint64 { return cc.Statistics().Dropped }).
			WithTimeout(5 * time.Second).WithPolling(time.Millisecond).Should(Equal(uint64(2)))
		for _, k := range []string{"a", "b"} {
			_, err := clientcache.GetValue[string](ctx, sc, k)
			Expect(err).To(MatchError(domain.ErrNotFound))
		}
		Expect(cc.Healthy()).To(BeTrue())
		Expect(store.TrackingID()).To(Equal(id), "a flush is not a loss")
		tracksAgain("a")
	})

	It("carries EraseCaches to every process, its own included", func() {
		setup(standaloneServer)
		// A second process on the same server.
		other, otherPlain, err := newTrackedPair(srv)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(func() error { return errors.Join(otherPlain.Close(), other.Close()) })
		occ, err := clientcache.New(other, clientcache.Config{})
		Expect(err).NotTo(HaveOccurred())
		Expect(occ.Start(ctx)).To(Succeed())
		DeferCleanup(func(ctx context.Context) error { return occ.Stop(ctx) })

		var mu sync.Mutex
		var got []string
		hook := func(name string) func(site, doctype string) {
			return func(s, doctype string) {
				mu.Lock()
				defer mu.Unlock()
				got = append(got, name+":"+s+":"+doctype)
			}
		}
		cc.OnErase(hook("self"))
		occ.OnErase(hook("other"))
		Expect(sc.EraseCaches(ctx, "ToDo")).To(Succeed())
		Eventually(func() []string {
			mu.Lock()
			defer mu.Unlock()
			return append([]string{}, got...)
		}).WithTimeout(5 * time.Second).Should(ConsistOf("self:"+site+":ToDo", "other:"+site+":ToDo"))
	})
})

// clientList returns CLIENT LIST as one map of fields per client.
func clientList(srv *redistest.Server) []map[string]string {
	GinkgoHelper()
	out, err := srv.Do("CLIENT", "LIST")
	Expect(err).NotTo(HaveOccurred())
	var list []map[string]string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		fields := map[string]string{}
		for _, f := range strings.Fields(line) {
			if k, v, ok := strings.Cut(f, "="); ok {
				fields[k] = v
			}
		}
		list = append(list, fields)
	}
	return list
}
