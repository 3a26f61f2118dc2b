package tests

import (
	"context"
	"errors"
	"fmt"
	"github.com/rediscache/rediscache/adapters/connection"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/redis/go-redis/v9"

	"github.com/rediscache/rediscache/adapters/sentinel"
	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/app/clientcache"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/fxmodule"
	"github.com/rediscache/rediscache/tests/conformance"
	"github.com/rediscache/rediscache/tests/redistest"
	"github.com/rediscache/rediscache/tests/storetest"
)

// Timeouts of the stores the failover and startup specs build. Every
// operation runs with a deadline of opTimeout and must end, one way or the
// other, within opTimeout + opSlack.
const (
	foDialTimeout  = 500 * time.Millisecond
	foReadTimeout  = 500 * time.Millisecond
	foWriteTimeout = 500 * time.Millisecond
	opTimeout      = foDialTimeout + foReadTimeout + foWriteTimeout
	opSlack        = 500 * time.Millisecond // scheduling under -race on two cores
)

// op is one operation of the load, as the worker saw it.
type op struct {
	write      bool
	key        string // the caller's key (without the site prefix)
	start, end time.Time
	err        error
}

// loadRecorder collects the operations of every worker.
type loadRecorder struct {
	mu  sync.Mutex
	ops []op
}

func (r *loadRecorder) add(o op) {
	r.mu.Lock()
	r.ops = append(r.ops, o)
	r.mu.Unlock()
}

func (r *loadRecorder) all() []op {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ops)
}

// typedFailure reports whether err is one of the errors an operation may
// return while the master moves.
func typedFailure(err error) bool {
	return errors.Is(err, domain.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded)
}

var _ = Describe("Sentinel failover under load", Label("redis", "sentinel", "failover"), Serial, Ordered, func() {
	It("follows the new master: every operation succeeds or fails typed and in time, replicated writes survive", func(ctx SpecContext) {
		const (
			writers   = 4
			readers   = 4
			pause     = 2 * time.Millisecond // between two operations of a worker
			preLoad   = 300 * time.Millisecond
			beforeCmd = 300 * time.Millisecond
			afterCmd  = time.Second // load kept running once the topology has settled
		)
		store, err := sentinel.New(sentinel.Config{
			MasterName:    sentinelTopology.MasterName(),
			SentinelAddrs: sentinelTopology.SentinelAddrs(),
			Connection:    connection.Options{DialTimeout: foDialTimeout, ReadTimeout: foReadTimeout, WriteTimeout: foWriteTimeout},
		})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(store.Close)
		cache, err := app.New(store, app.Config{Site: conformance.Prefix() + "failover"})
		Expect(err).NotTo(HaveOccurred())
		Expect(cache.Ping(ctx)).To(Succeed())

		oldMaster := sentinelTopology.Master()
		replica := sentinelTopology.Replica()
		Expect(oldMaster).NotTo(BeNil())
		Expect(replica).NotTo(BeNil())
		// The demoted master will reload the data set from an RDB
		// snapshot, which RediSearch 1.2 cannot do for a dictionary
		// corrupted by FT.SUGDEL of a prefix (the conformance suite makes
		// one on purpose): start from an empty data set. The spec is
		// Serial, so no other spec uses the topology meanwhile.
		Expect(oldMaster.Do("FLUSHALL")).To(Equal("OK"))

		rec := &loadRecorder{}
		run := func(stop <-chan struct{}, wg *sync.WaitGroup, body func(i int)) {
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					body(i)
					time.Sleep(pause)
				}
			})
		}
		write := func(prefix string, w, i int) {
			key := fmt.Sprintf("%s-%d-%d", prefix, w, i)
			opCtx, cancel := context.WithTimeout(ctx, opTimeout)
			start := time.Now()
			err := cache.SetValue(opCtx, key, i)
			rec.add(op{write: true, key: key, start: start, end: time.Now(), err: err})
			cancel()
		}

		By("writing through the Cache, then confirming replication with WAIT 1")
		stopPre := make(chan struct{})
		var preWG sync.WaitGroup
		for w := range writers {
			run(stopPre, &preWG, func(i int) { write("pre", w, i) })
		}
		time.Sleep(preLoad)
		close(stopPre)
		preWG.Wait()
		// From here on the load stops when the spec ends, however it ends.
		stop := make(chan struct{})
		stopLoad := sync.OnceFunc(func() { close(stop) })
		var wg sync.WaitGroup
		DeferCleanup(func() {
			stopLoad()
			wg.Wait()
		})
		confirmed := map[string]int{}
		for _, o := range rec.all() {
			Expect(o.err).NotTo(HaveOccurred(), "write %s before the failover", o.key)
			var w, i int
			_, err := fmt.Sscanf(o.key, "pre-%d-%d", &w, &i)
			Expect(err).NotTo(HaveOccurred())
			confirmed[o.key] = i
		}
		Expect(confirmed).NotTo(BeEmpty())
		// WAIT counts the replicas that acknowledged the connection's own
		// last write; replication is ordered, so once a marker written
		// after every acknowledged Cache write is replicated, so are they.
		raw := redis.NewClient(&redis.Options{Addr: oldMaster.Addr(), Protocol: 2})
		DeferCleanup(raw.Close)
		conn := raw.Conn()
		Expect(conn.Set(ctx, conformance.Prefix()+"wait-marker", "1", 0).Err()).To(Succeed())
		Expect(conn.Do(ctx, "WAIT", 1, 1000).Int()).To(BeNumerically(">=", 1), "replicas that acknowledged the writes")
		Expect(conn.Close()).To(Succeed())
		confirmedKeys := make([]string, 0, len(confirmed))
		for k := range confirmed {
			confirmedKeys = append(confirmedKeys, k)
		}
		fmt.Fprintf(GinkgoWriter, "%d writes acknowledged and replicated before the failover\n", len(confirmed))

		// A store's tracking lives on the old master: the failover must end
		// it (the leases of what was fetched are revoked and the sinks told
		// to drop it), and tracking must resume on the new master.
		tracked, err := sentinel.New(sentinel.Config{
			MasterName:    sentinelTopology.MasterName(),
			SentinelAddrs: sentinelTopology.SentinelAddrs(),
			Connection:    connection.Options{DialTimeout: foDialTimeout, ReadTimeout: foReadTimeout, WriteTimeout: foWriteTimeout},
		})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(tracked.Close)
		sink := &conformance.Recorder{}
		untrack, err := tracked.Track(ctx, sink)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(untrack)
		trackedKey, err := cache.MakeKey(confirmedKeys[0])
		Expect(err).NotTo(HaveOccurred())
		fetched, err := tracked.Fetch(ctx, trackedKey)
		Expect(err).NotTo(HaveOccurred())
		Expect(fetched.Found).To(BeTrue())

		// A ClientCache over another tracked store holds one replicated
		// key locally: the failover must flush it, and reads after it must
		// be correct.
		ccStore, err := sentinel.New(sentinel.Config{
			MasterName:    sentinelTopology.MasterName(),
			SentinelAddrs: sentinelTopology.SentinelAddrs(),
			Connection:    connection.Options{DialTimeout: foDialTimeout, ReadTimeout: foReadTimeout, WriteTimeout: foWriteTimeout},
		})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(ccStore.Close)
		counted := storetest.Wrap(ccStore)
		ccc, err := clientcache.New(counted, clientcache.Config{})
		Expect(err).NotTo(HaveOccurred())
		Expect(ccc.Start(ctx)).To(Succeed())
		DeferCleanup(func(ctx context.Context) error { return ccc.Stop(ctx) })
		cc, err := ccc.Site(cache.Site())
		Expect(err).NotTo(HaveOccurred())
		ccKey := confirmedKeys[0]
		fullCCKey, err := cc.Cache().MakeKey(ccKey)
		Expect(err).NotTo(HaveOccurred())
		var ccKeyGets atomic.Int64 // backend reads of ccKey by the ClientCache
		countKey := func(_ context.Context, key string) {
			if key == fullCCKey {
				ccKeyGets.Add(1)
			}
		}
		counted.OnCall("Fetch", countKey)
		counted.OnCall("Get", countKey)
		Expect(clientcache.GetValue[int](ctx, cc, ccKey)).To(Equal(confirmed[ccKey]))
		Expect(clientcache.GetValue[int](ctx, cc, ccKey)).To(Equal(confirmed[ccKey]))
		ccGets := ccKeyGets.Load()
		Expect(ccGets).To(Equal(int64(1)), "the second read was a local hit")

		By("running readers and writers through SENTINEL FAILOVER")
		var wrongValues atomic.Int64
		for w := range writers {
			run(stop, &wg, func(i int) { write("post", w, i) })
		}
		for r := range readers {
			rnd := rand.New(rand.NewPCG(uint64(r), 42))
			run(stop, &wg, func(int) {
				key := confirmedKeys[rnd.IntN(len(confirmedKeys))]
				opCtx, cancel := context.WithTimeout(ctx, opTimeout)
				defer cancel()
				start := time.Now()
				v, err := app.GetValue[int](opCtx, cache, key)
				rec.add(op{key: key, start: start, end: time.Now(), err: err})
				if err == nil && v != confirmed[key] {
					wrongValues.Add(1)
				}
			})
		}
		// The same reads through the ClientCache (never of ccKey, which
		// checks the flush below): correct values, typed errors, in time.
		for r := range readers {
			rnd := rand.New(rand.NewPCG(uint64(r), 7))
			run(stop, &wg, func(int) {
				key := confirmedKeys[1+rnd.IntN(len(confirmedKeys)-1)]
				opCtx, cancel := context.WithTimeout(ctx, opTimeout)
				defer cancel()
				start := time.Now()
				v, err := clientcache.GetValue[int](opCtx, cc, key)
				rec.add(op{key: key, start: start, end: time.Now(), err: err})
				if err == nil && v != confirmed[key] {
					wrongValues.Add(1)
				}
			})
		}
		// Watch the replica's promotion, to tell the writes that reached
		// the new master from those the old one took in the meantime.
		var promoted atomic.Int64
		wg.Go(func() {
			for promoted.Load() == 0 {
				select {
				case <-stop:
					return
				default:
				}
				if role, err := replica.Do("ROLE"); err == nil && strings.HasPrefix(role, "master\n") {
					promoted.Store(time.Now().UnixNano())
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		})

		time.Sleep(beforeCmd)
		failoverAt := time.Now()
		newMaster := sentinelTopology.Failover(GinkgoT())
		settled := time.Since(failoverAt)
		time.Sleep(afterCmd)
		stopLoad()
		wg.Wait()
		Expect(newMaster).To(Equal(replica), "the replica was promoted")
		Expect(promoted.Load()).NotTo(BeZero(), "promotion of %s observed", replica.Addr())
		promotedAt := time.Unix(0, promoted.Load())

		By("checking every operation")
		ops := rec.all()
		var (
			failures, postWrites, reads int
			slowest                     time.Duration
			bad                         []string
		)
		for _, o := range ops {
			if strings.HasPrefix(o.key, "pre-") && o.write {
				continue
			}
			if o.write {
				postWrites++
			} else {
				reads++
			}
			d := o.end.Sub(o.start)
			slowest = max(slowest, d)
			if d > opTimeout+opSlack {
				bad = append(bad, fmt.Sprintf("%s took %v (err %v)", o.key, d, o.err))
			}
			if o.err != nil {
				failures++
				if !typedFailure(o.err) {
					bad = append(bad, fmt.Sprintf("%s failed with an untyped error: %v", o.key, o.err))
				}
			}
		}
		Expect(bad).To(BeEmpty(), "operations that broke the contract")
		Expect(wrongValues.Load()).To(BeZero(), "reads of replicated keys that returned another value")

		By("finding the first write that reached the new master")
		// A write started after the promotion is on the new master iff
		// it went there: the old master no longer feeds the new one.
		direct := redis.NewClient(&redis.Options{Addr: newMaster.Addr(), Protocol: 2})
		DeferCleanup(direct.Close)
		var firstOnNew time.Time
		lost := 0
		slices.SortFunc(ops, func(a, b op) int { return a.start.Compare(b.start) })
		for _, o := range ops {
			if !o.write || o.err != nil || o.start.Before(promotedAt) {
				continue
			}
			key, err := cache.MakeKey(o.key)
			Expect(err).NotTo(HaveOccurred())
			n, err := direct.Exists(ctx, key).Result()
			Expect(err).NotTo(HaveOccurred())
			switch {
			case n == 0:
				lost++
			case firstOnNew.IsZero():
				firstOnNew = o.end
			}
		}
		Expect(firstOnNew.IsZero()).To(BeFalse(), "no write reached the new master")

		By("reading every replicated write back through the Cache")
		for key, want := range confirmed {
			Expect(app.GetValue[int](ctx, cache, key)).To(Equal(want), "replicated key %s", key)
		}
		Expect(cache.Connected(ctx)).To(BeTrue())
		Expect(cache.SetValue(ctx, "after", 1)).To(Succeed())
		after, err := cache.MakeKey("after")
		Expect(err).NotTo(HaveOccurred())
		Expect(newMaster.Do("GET", after)).To(Equal("1"), "a write after the failover lands on the new master")

		By("ending tracking on the old master, and tracking on the new one")
		Eventually(fetched.Lease.Valid).Within(5*time.Second).Should(BeFalse(), "the tracking on the old master ends")
		Expect(sink.Drops()).To(ContainElement(WithTransform(func(d conformance.Drop) bool {
			return d.Scope.Covers(fetched.Lease)
		}, BeTrue())), "the sinks are told to drop what the old master's tracking covered")
		Eventually(tracked.Tracking).Within(10 * time.Second).Should(BeTrue())
		fetched, err = tracked.Fetch(ctx, trackedKey)
		Expect(err).NotTo(HaveOccurred())
		Expect(fetched.Found).To(BeTrue())
		before := sink.Count(trackedKey)
		Expect(store.Set(ctx, trackedKey, []byte("changed"), 0)).To(Succeed())
		Eventually(func() int { return sink.Count(trackedKey) }).Within(5 * time.Second).Should(BeNumerically(">", before))

		By("flushing the ClientCache's local copy, and reading correctly after the failover")
		Eventually(func() int64 {
			_, _ = clientcache.GetValue[int](ctx, cc, ccKey)
			return ccKeyGets.Load()
		}).WithTimeout(15*time.Second).WithPolling(5*time.Millisecond).Should(BeNumerically(">", ccGets),
			"the local copy from before the failover is dropped and fetched again")
		Eventually(ccc.Healthy).WithTimeout(15 * time.Second).Should(BeTrue())
		Expect(cache.SetValue(ctx, ccKey, -1)).To(Succeed())
		Eventually(func() (int, error) { return clientcache.GetValue[int](ctx, cc, ccKey) }).
			WithTimeout(5 * time.Second).WithPolling(time.Millisecond).Should(Equal(-1))

		report := fmt.Sprintf("SENTINEL FAILOVER → replica promoted: %v; → first successful write on the new master: %v; "+
			"→ topology settled (old master demoted): %v. Operations during the failover: %d writes, %d reads, %d typed failures, "+
			"slowest %v; %d acknowledged writes taken by the old master after the promotion were lost (asynchronous replication).",
			promotedAt.Sub(failoverAt).Round(time.Millisecond), firstOnNew.Sub(failoverAt).Round(time.Millisecond),
			settled.Round(time.Millisecond), postWrites, reads, failures, slowest.Round(time.Millisecond), lost)
		fmt.Fprintln(GinkgoWriter, report)
		AddReportEntry("failover", report, ReportEntryVisibilityAlways)
	}, SpecTimeout(2*time.Minute))
})

// Startup checks: each bad configuration gives a clear error, in time,
// without its secrets.
var _ = Describe("Sentinel startup checks", Label("redis", "sentinel"), Ordered, func() {
	const (
		masterPW   = "master-pw-s3cret"
		sentinelPW = "sentinel-pw-s3cret"
		// pingBound is what Store.Ping promises, 2 × (DialTimeout +
		// ReadTimeout), plus scheduling slack.
		pingBound = 2*(foDialTimeout+foReadTimeout) + opSlack
	)
	var (
		top  *redistest.Topology
		good sentinel.Config
	)
	BeforeAll(func() {
		top = redistest.StartSentinel(GinkgoT(), redistest.WithSentinels(1), redistest.WithReplicas(0),
			redistest.WithPassword(masterPW), redistest.WithSentinelPassword(sentinelPW))
		good = sentinel.Config{
			MasterName:       top.MasterName(),
			SentinelAddrs:    top.SentinelAddrs(),
			SentinelPassword: sentinelPW,
			Connection:       connection.Options{Password: masterPW, DialTimeout: foDialTimeout, ReadTimeout: foReadTimeout, WriteTimeout: foWriteTimeout},
		}
	})

	// expectStartupError checks that a Cache over a store built from cfg
	// is not Connected and that Ping fails in time with a typed error that
	// says want and hides the passwords.
	expectStartupError := func(ctx context.Context, cfg sentinel.Config, want ...string) {
		GinkgoHelper()
		store, err := sentinel.New(cfg)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(store.Close)
		c, err := app.New(store, app.Config{Site: "site"})
		Expect(err).NotTo(HaveOccurred())
		start := time.Now()
		Expect(c.Connected(ctx)).To(BeFalse())
		err = c.Ping(ctx)
		Expect(time.Since(start)).To(BeNumerically("<", 2*pingBound), "Connected then Ping")
		Expect(err).To(MatchError(domain.ErrUnavailable))
		for _, w := range want {
			Expect(err.Error()).To(ContainSubstring(w))
		}
		Expect(err.Error()).NotTo(Or(ContainSubstring(masterPW), ContainSubstring(sentinelPW)))
		fmt.Fprintf(GinkgoWriter, "%v\n", err)
	}

	It("connects with the right settings", func(ctx SpecContext) {
		store, err := sentinel.New(good)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(store.Close)
		Expect(store.Ping(ctx)).To(Succeed())
	}, SpecTimeout(10*time.Second))

	It("rejects a configuration without sentinels before connecting", func() {
		cfg := good
		cfg.SentinelAddrs = nil
		_, err := sentinel.New(cfg)
		Expect(err).To(MatchError(domain.ErrInvalidArgument))
		Expect(err.Error()).To(ContainSubstring("SentinelAddrs is empty"))

		_, err = fxmodule.NewBackend(fxmodule.Config{SentinelEnabled: true, MasterService: "mymaster"}, nil)
		Expect(err).To(MatchError(domain.ErrInvalidArgument))
		Expect(err.Error()).To(ContainSubstring("redis_cache_sentinels (REDIS_CACHE_SENTINELS) is empty"))
	})

	It("says the sentinels don't know a wrong master name", func(ctx SpecContext) {
		cfg := good
		cfg.MasterName = "nosuchmaster"
		expectStartupError(ctx, cfg, `sentinels don't know master "nosuchmaster"`, top.SentinelAddrs()[0])
	}, SpecTimeout(30*time.Second))

	It("names the unreachable sentinels", func(ctx SpecContext) {
		var addrs []string
		for range 3 {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			Expect(err).NotTo(HaveOccurred())
			addrs = append(addrs, ln.Addr().String())
			Expect(ln.Close()).To(Succeed())
		}
		cfg := good
		cfg.SentinelAddrs = addrs
		expectStartupError(ctx, cfg, append([]string{"no sentinel reachable"}, addrs...)...)
	}, SpecTimeout(30*time.Second))

	It("says the sentinels rejected a wrong sentinel password", func(ctx SpecContext) {
		cfg := good
		cfg.SentinelPassword = "not-the-" + sentinelPW
		expectStartupError(ctx, cfg, "rejected the credentials", "sentinel username and password")
	}, SpecTimeout(30*time.Second))

	It("says the master rejected a wrong master password", func(ctx SpecContext) {
		cfg := good
		cfg.Connection.Password = "not-the-" + masterPW
		expectStartupError(ctx, cfg, `master "mymaster" at `+top.Master().Addr()+" rejected the credentials",
			"master username and password")
	}, SpecTimeout(30*time.Second))
})
