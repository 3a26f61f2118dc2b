package tests

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/redis/go-redis/v9"

	"github.com/rediscache/rediscache/adapters/cluster"
	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/fxmodule"
	"github.com/rediscache/rediscache/ports"
	"github.com/rediscache/rediscache/tests/conformance"
	"github.com/rediscache/rediscache/tests/redistest"
)

// clusterConfig reaches the suite's cluster through all its nodes.
func clusterConfig() cluster.Config {
	return cluster.Config{Addrs: clusterNodes.Addrs()}
}

// newClusterStore returns a store on the suite's cluster, closed when the
// spec ends.
func newClusterStore() *cluster.Store {
	GinkgoHelper()
	Expect(clusterNodes).NotTo(BeNil(), "cluster not started (BeforeSuite did not run)")
	s, err := cluster.New(clusterConfig())
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(s.Close)
	return s
}

// flushCluster empties every master (the replicas follow).
func flushCluster(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return clusterNodes.FlushAll()
}

// clusterFactory connects two clients (Store and Peer) to the suite's
// cluster.
func clusterFactory(context.Context) (conformance.Backend, error) {
	if clusterNodes == nil {
		return conformance.Backend{}, errors.New("cluster not started (BeforeSuite did not run)")
	}
	store, err := cluster.New(clusterConfig())
	if err != nil {
		return conformance.Backend{}, fmt.Errorf("store: %w", err)
	}
	peer, err := cluster.New(clusterConfig())
	if err != nil {
		return conformance.Backend{}, errors.Join(fmt.Errorf("peer: %w", err), store.Close())
	}
	return conformance.Backend{
		Store:   store,
		Peer:    peer,
		Tracker: store,
		Flush:   flushCluster,
		Close:   func() error { return errors.Join(peer.Close(), store.Close()) },
	}, nil
}

// The suite on the cluster store, with its Tracker specs, and through a
// ClientCache over it; then the ClientCache's own specs, with another
// client of the cluster as the peer whose writes must reach the cache.
var (
	_ = conformance.Describe("cluster", clusterFactory, conformance.Features{Suggest: true},
		Label("redis", "cluster"))
	_ = conformance.Describe("clientcache over cluster", clientCacheFactory(clusterFactory),
		conformance.Features{Suggest: true}, Label("redis", "cluster", "clientcache"))
	_ = describeClientCache("cluster", func(ctx context.Context) ccBackend {
		GinkgoHelper()
		b, err := clusterFactory(ctx)
		Expect(err).NotTo(HaveOccurred())
		return ccBackend{store: b.Store.(ports.TrackedStore), peer: b.Peer, flush: b.Flush, close: b.Close}
	}, Label("redis", "cluster", "clientcache"))
)

// nodeKeys lists the keys of one node matching pattern, with a client of
// that node alone: what the node itself holds.
func nodeKeys(ctx context.Context, n *redistest.Server, pattern string) []string {
	GinkgoHelper()
	c := redis.NewClient(&redis.Options{Addr: n.Addr(), Protocol: 2})
	defer c.Close()
	var keys []string
	iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	Expect(iter.Err()).NotTo(HaveOccurred())
	return keys
}

// scanCalls returns how many SCAN commands n has served.
func scanCalls(n *redistest.Server) int {
	GinkgoHelper()
	stats, err := n.Do("INFO", "commandstats")
	Expect(err).NotTo(HaveOccurred())
	for line := range strings.SplitSeq(stats, "\r\n") {
		if rest, ok := strings.CutPrefix(line, "cmdstat_scan:calls="); ok {
			calls, _, _ := strings.Cut(rest, ",")
			v, err := strconv.Atoi(calls)
			Expect(err).NotTo(HaveOccurred())
			return v
		}
	}
	return 0
}

var _ = Describe("Redis Cluster", Label("redis", "cluster"), func() {
	It("spreads one site's keys over every master, and lists and deletes exactly them", func(ctx SpecContext) {
		store := newClusterStore()
		p := conformance.Prefix()
		// Two sites whose names a glob would confuse: s?te matches sXte.
		a, err := app.New(store, app.Config{Site: p + "s?te"})
		Expect(err).NotTo(HaveOccurred())
		b, err := app.New(store, app.Config{Site: p + "sXte"})
		Expect(err).NotTo(HaveOccurred())
		const n = 1000
		for i := range n {
			Expect(a.SetValue(ctx, fmt.Sprintf("doc:%d", i), i)).To(Succeed())
		}
		for i := range 100 {
			Expect(b.SetValue(ctx, fmt.Sprintf("doc:%d", i), i)).To(Succeed())
		}

		By("finding the site's keys on every master")
		masters := clusterNodes.Masters()
		Expect(masters).To(HaveLen(3))
		pattern := domain.EscapeGlob(a.Site()) + "|*"
		total := 0
		for _, m := range masters {
			got := len(nodeKeys(ctx, m, pattern))
			fmt.Fprintf(GinkgoWriter, "master %s holds %d of the %d keys\n", m.Addr(), got, n)
			Expect(got).To(BeNumerically(">", n/6), "master %s holds a share of the keys", m.Addr())
			total += got
		}
		Expect(total).To(Equal(n))

		By("listing them through the Cache: every master scanned, no replica")
		replicas := clusterNodes.Replicas()
		Expect(replicas).To(HaveLen(3))
		scansBefore := make(map[*redistest.Server]int)
		for _, node := range append(slices.Clone(masters), replicas...) {
			scansBefore[node] = scanCalls(node)
		}
		keys, err := a.GetKeys(ctx, "doc:")
		Expect(err).NotTo(HaveOccurred())
		Expect(keys).To(HaveLen(n))
		want := make([]string, n)
		for i := range n {
			want[i] = fmt.Sprintf("doc:%d", i)
		}
		Expect(keys).To(ConsistOf(want))
		for _, m := range masters {
			Expect(scanCalls(m)).To(BeNumerically(">", scansBefore[m]), "master %s scanned", m.Addr())
		}
		for _, r := range replicas {
			Expect(scanCalls(r)).To(Equal(scansBefore[r]), "replica %s not scanned", r.Addr())
		}

		By("counting and deleting them")
		Expect(a.CountExisting(ctx, append(slices.Clone(want[:10]), want[0], "missing"))).To(Equal(int64(11)),
			"a key named twice counts twice")
		Expect(a.DeleteKeys(ctx, "doc:")).To(Equal(int64(n)))
		Expect(a.GetKeys(ctx, "doc:")).To(BeEmpty())
		for _, m := range masters {
			Expect(nodeKeys(ctx, m, pattern)).To(BeEmpty())
		}
		other, err := b.GetKeys(ctx, "doc:")
		Expect(err).NotTo(HaveOccurred())
		Expect(other).To(HaveLen(100), "the other site's keys are untouched")
		Expect(b.DeleteKeys(ctx, "doc:")).To(Equal(int64(100)))
	}, SpecTimeout(time.Minute))

	It("splits multi-key commands by hash slot and adds up their counts", func(ctx SpecContext) {
		store := newClusterStore()
		p := conformance.Prefix()
		keys := make([]string, 30)
		owners := map[*redistest.Server]bool{}
		for i := range keys {
			keys[i] = fmt.Sprintf("%sk%d", p, i)
			Expect(store.Set(ctx, keys[i], []byte("v"), 0)).To(Succeed())
			owners[clusterNodes.MasterFor(keys[i])] = true
		}
		Expect(owners).To(HaveLen(3), "the keys are on every master")
		// Repeats, a missing key, keys sharing a slot through a hash tag.
		tagged := []string{p + "{t}a", p + "{t}b"}
		for _, k := range tagged {
			Expect(store.Set(ctx, k, []byte("v"), 0)).To(Succeed())
		}
		args := append(append(slices.Clone(keys), keys[0], keys[1], keys[1], p+"missing"), tagged...)
		Expect(store.Exists(ctx, args...)).To(Equal(int64(len(keys) + 3 + len(tagged))))
		Expect(store.Del(ctx, args...)).To(Equal(int64(len(keys)+len(tagged))), "deleted once each")
		Expect(store.Exists(ctx, args...)).To(BeZero())

		By("deleting one field of hashes on every master")
		c, err := app.New(store, app.Config{Site: p + "site"})
		Expect(err).NotTo(HaveOccurred())
		for i := range 30 {
			name := fmt.Sprintf("h:%d", i)
			Expect(c.HSet(ctx, name, "f", i)).To(Succeed())
			Expect(c.HSet(ctx, name, "g", i)).To(Succeed())
		}
		Expect(c.SetValue(ctx, "h:string", "not a hash")).To(Succeed())
		Expect(c.HDelKeys(ctx, "h:", "f")).To(Equal(int64(30)))
		for i := range 30 {
			Expect(c.HKeys(ctx, fmt.Sprintf("h:%d", i))).To(Equal([]string{"g"}))
		}
		pipe := c.Pipeline()
		for i := range 30 {
			Expect(pipe.HDel(fmt.Sprintf("h:%d", i), []string{"g", "missing"})).To(Succeed())
		}
		Expect(pipe.Exec(ctx)).To(Equal(int64(30)))
		Expect(c.GetKeys(ctx, "h:")).To(Equal([]string{"h:string"}), "emptied hashes are gone")
	}, SpecTimeout(time.Minute))

	It("sends FT.SUG* commands to the master of the dictionary", func(ctx SpecContext) {
		store := newClusterStore()
		p := conformance.Prefix()
		search, err := app.New(store, app.Config{Site: p + "site"})
		Expect(err).NotTo(HaveOccurred())
		ft := search.FT("")
		seen := map[*redistest.Server]bool{}
		for i := 0; len(seen) < 3; i++ {
			Expect(i).To(BeNumerically("<", 100), "dictionaries on every master")
			dict := fmt.Sprintf("cities%d", i)
			key, err := search.MakeKey(dict)
			Expect(err).NotTo(HaveOccurred())
			owner := clusterNodes.MasterFor(key)
			if seen[owner] {
				continue
			}
			seen[owner] = true
			Expect(ft.SugAdd(ctx, dict, domain.Suggestion{String: "Zurich", Score: 2}, domain.Suggestion{String: "Zug"})).To(Equal(int64(2)))
			Expect(owner.Do("FT.SUGLEN", key)).To(Equal("2"), "the dictionary lives on %s", owner.Addr())
			sugs, err := ft.SugGet(ctx, dict, "zu", domain.SugGetOptions{WithScores: true})
			Expect(err).NotTo(HaveOccurred())
			Expect(sugs).To(HaveLen(2))
			Expect(ft.SugDel(ctx, dict, "Zug")).To(BeTrue())
			Expect(ft.SugLen(ctx, dict)).To(Equal(int64(1)))
		}
	}, SpecTimeout(time.Minute))

	It("carries broadcasts between stores connected through different nodes", func(ctx SpecContext) {
		masters := clusterNodes.Masters()
		sub, err := cluster.New(cluster.Config{Addrs: []string{masters[0].Addr()}})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(sub.Close)
		pub, err := cluster.New(cluster.Config{Addrs: []string{masters[2].Addr()}})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(pub.Close)
		var bc ports.Broadcast = sub
		channel := conformance.Prefix() + "clear_persistent_cache"
		msgs, err := bc.Subscribe(ctx, channel)
		Expect(err).NotTo(HaveOccurred())
		Expect(pub.Publish(ctx, channel, []byte("DocType"))).To(Succeed())
		Eventually(msgs).Within(5 * time.Second).Should(Receive(Equal([]byte("DocType"))))
	}, SpecTimeout(30*time.Second))
})

// Setup from configuration: the cluster backend chosen by its nodes.
var _ = Describe("fxmodule.NewBackend on a cluster", Label("redis", "cluster"), func() {
	It("builds a cluster store from REDIS_CACHE_CLUSTER_NODES-style settings", func(ctx SpecContext) {
		b, err := fxmodule.NewBackend(fxmodule.Config{
			Site:         "site1.local",
			ClusterNodes: clusterNodes.Addrs()[:2],
			DialTimeout:  time.Second,
		}, nil)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(b.Close)
		Expect(b.Name).To(Equal(fxmodule.BackendCluster))
		Expect(b.Pinger.Ping(ctx)).To(Succeed())
		untrack, err := b.Store.Track(ctx, nopSink{})
		Expect(err).NotTo(HaveOccurred())
		Expect(b.Store.Tracking()).To(BeTrue())
		untrack()
		Expect(b.Store.Tracking()).To(BeFalse())

		c, err := app.New(b.Store, app.Config{Site: conformance.Prefix() + "site"})
		Expect(err).NotTo(HaveOccurred())
		Expect(c.Connected(ctx)).To(BeTrue())
		Expect(c.SetValue(ctx, "answer", 42)).To(Succeed())
		key, err := c.MakeKey("answer")
		Expect(err).NotTo(HaveOccurred())
		Expect(clusterNodes.MasterFor(key).Do("GET", key)).To(Equal("42"))
	}, SpecTimeout(30*time.Second))
})

// nopSink is an InvalidationSink that ignores every report.
type nopSink struct{}

func (nopSink) Invalidate([]string)        {}
func (nopSink) Drop(*domain.Lease, string) {}
