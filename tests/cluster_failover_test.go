package tests

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
	"github.com/redis/go-redis/v9"

	"github.com/rediscache/rediscache/adapters/cluster"
	"github.com/rediscache/rediscache/adapters/connection"
	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/tests/conformance"
)

// The Cluster's failover: a master killed with SIGKILL under a mixed load
// through the Cache (reads, writes, multi-key counts spanning every master,
// listings scanning every master), until its replica has taken over its
// slots and the store has followed. Every call must succeed with the right
// value or fail typed within its deadline; the recovery time is reported.
// The Cache alone (tests/cluster_clientcache_test.go runs the ClientCache
// through the same fault). Without the store's own layout reloads (watchTopology in
// adapters/internal/redisstore), go-redis keeps sending the killed
// master's slots to it for up to a minute: the reads of this spec would
// not recover within its 30 s.
var _ = Describe("Cluster failover under load", Label("redis", "cluster", "failover"), Serial, func() {
	It("survives kill -9 of a master: every call bounded and typed, reads correct, the replica serves its slots", func(ctx SpecContext) {
		const (
			writers = 4
			readers = 4
			pause   = 2 * time.Millisecond // between two operations of a worker
			preLoad = 300 * time.Millisecond
			// afterRecovery is how long the load keeps running once a
			// key of the killed master's slots was read again.
			afterRecovery = time.Second
		)
		// A replica resynchronising from an RDB snapshot cannot load a
		// RediSearch 1.2 dictionary corrupted by FT.SUGDEL of a prefix
		// (the conformance suite makes one on purpose): start empty. The
		// spec is Serial, so no other spec uses the cluster meanwhile.
		Expect(clusterNodes.FlushAll()).To(Succeed())
		newCache := func(site string) *app.Cache {
			GinkgoHelper()
			store, err := cluster.New(cluster.Config{
				Addrs:      clusterNodes.Addrs(),
				Connection: connection.Options{DialTimeout: foDialTimeout, ReadTimeout: foReadTimeout, WriteTimeout: foWriteTimeout},
			})
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(store.Close)
			cache, err := app.New(store, app.Config{Site: site})
			Expect(err).NotTo(HaveOccurred())
			Expect(cache.Ping(ctx)).To(Succeed())
			return cache
		}
		// Reads and writes go through one store; counts and listings
		// through another, since a listing reloads the cluster's layout
		// (it scans the masters of the moment): the first store must
		// follow the failover by itself.
		cache := newCache(conformance.Prefix() + "failover")
		multi := newCache(cache.Site())

		victim := clusterNodes.Masters()[0]
		replica := clusterNodes.ReplicaOf(victim)
		Expect(replica).NotTo(BeNil(), "the master to kill has a replica")
		victimSlots := map[int]bool{}
		for _, s := range clusterNodes.SlotsOf(victim) {
			victimSlots[s] = true
		}
		onVictim := func(key string) bool {
			GinkgoHelper()
			full, err := cache.MakeKey(key)
			Expect(err).NotTo(HaveOccurred())
			return victimSlots[clusterNodes.Slot(full)]
		}

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

		By("writing through the Cache, then confirming replication of the master to kill with WAIT 1")
		stopPre := make(chan struct{})
		var preWG sync.WaitGroup
		for w := range writers {
			run(stopPre, &preWG, func(i int) { write("pre", w, i) })
		}
		time.Sleep(preLoad)
		close(stopPre)
		preWG.Wait()
		confirmed := map[string]int{}
		var confirmedKeys, victimKeys []string
		for _, o := range rec.all() {
			Expect(o.err).NotTo(HaveOccurred(), "write %s before the failover", o.key)
			var w, i int
			_, err := fmt.Sscanf(o.key, "pre-%d-%d", &w, &i)
			Expect(err).NotTo(HaveOccurred())
			confirmed[o.key] = i
			confirmedKeys = append(confirmedKeys, o.key)
			if onVictim(o.key) {
				victimKeys = append(victimKeys, o.key)
			}
		}
		Expect(victimKeys).NotTo(BeEmpty(), "keys on the master to kill")
		// WAIT counts the replicas that acknowledged the connection's own
		// last write; replication is ordered, so once a marker written
		// after every acknowledged Cache write is replicated, so are they.
		marker := ""
		for i := 0; marker == ""; i++ {
			if k := fmt.Sprintf("%swait-marker-%d", conformance.Prefix(), i); victimSlots[clusterNodes.Slot(k)] {
				marker = k
			}
		}
		raw := redis.NewClient(&redis.Options{Addr: victim.Addr(), Protocol: 2})
		DeferCleanup(raw.Close)
		conn := raw.Conn()
		Expect(conn.Set(ctx, marker, "1", 0).Err()).To(Succeed())
		Expect(conn.Do(ctx, "WAIT", 1, 1000).Int()).To(BeNumerically(">=", 1), "replicas that acknowledged the writes")
		Expect(conn.Close()).To(Succeed())
		fmt.Fprintf(GinkgoWriter, "%d writes acknowledged before the kill, %d of them on %s, replicated\n",
			len(confirmed), len(victimKeys), victim.Addr())

		By("running readers, writers, multi-key counts and listings through kill -9 of " + victim.Addr())
		// From here on the load stops when the spec ends, however it ends,
		// and the killed node comes back as a replica.
		stop := make(chan struct{})
		stopLoad := sync.OnceFunc(func() { close(stop) })
		var wg sync.WaitGroup
		DeferCleanup(func() {
			stopLoad()
			wg.Wait()
			clusterNodes.Restart(GinkgoT(), victim)
		})
		var wrong atomic.Int64
		var wrongMu sync.Mutex
		var wrongWhat []string
		bad := func(format string, args ...any) {
			wrong.Add(1)
			wrongMu.Lock()
			wrongWhat = append(wrongWhat, fmt.Sprintf(format, args...))
			wrongMu.Unlock()
		}
		for w := range writers {
			run(stop, &wg, func(i int) { write("post", w, i) })
		}
		// Half the readers read only keys of the killed master's slots.
		var lastVictimRead atomic.Int64 // unix nanos of the latest successful one
		for r := range readers {
			rnd := rand.New(rand.NewPCG(uint64(r), 42))
			from := confirmedKeys
			if r%2 == 0 {
				from = victimKeys
			}
			run(stop, &wg, func(int) {
				key := from[rnd.IntN(len(from))]
				opCtx, cancel := context.WithTimeout(ctx, opTimeout)
				defer cancel()
				start := time.Now()
				v, err := app.GetValue[int](opCtx, cache, key)
				end := time.Now()
				rec.add(op{key: key, start: start, end: end, err: err})
				switch {
				case err != nil:
				case v != confirmed[key]:
					bad("read %s = %d, want %d", key, v, confirmed[key])
				case r%2 == 0:
					lastVictimRead.Store(end.UnixNano())
				}
			})
		}
		// Counts of keys spread over every master (one EXISTS per slot).
		run(stop, &wg, func(int) {
			keys := make([]string, 10)
			for i := range keys {
				keys[i] = confirmedKeys[rand.IntN(len(confirmedKeys))]
			}
			opCtx, cancel := context.WithTimeout(ctx, opTimeout)
			defer cancel()
			start := time.Now()
			n, err := multi.CountExisting(opCtx, keys)
			rec.add(op{key: "count", start: start, end: time.Now(), err: err})
			if err == nil && n != int64(len(keys)) {
				bad("CountExisting of %d confirmed keys = %d", len(keys), n)
			}
		})
		// Listings, which scan every master.
		want0 := 0
		for k := range confirmed {
			if strings.HasPrefix(k, "pre-0-") {
				want0++
			}
		}
		run(stop, &wg, func(int) {
			opCtx, cancel := context.WithTimeout(ctx, opTimeout)
			defer cancel()
			start := time.Now()
			keys, err := multi.GetKeys(opCtx, "pre-0-")
			rec.add(op{key: "list", start: start, end: time.Now(), err: err})
			if err == nil && len(keys) != want0 {
				bad("GetKeys(pre-0-) listed %d keys, want %d", len(keys), want0)
			}
			time.Sleep(20 * time.Millisecond)
		})
		// Watch the replica's promotion.
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

		time.Sleep(300 * time.Millisecond)
		killedAt := time.Now()
		victim.Kill()
		// Recovered: a key of the killed master's slots was read (through
		// its former replica) by a read that started after the kill.
		Eventually(func() time.Time { return time.Unix(0, lastVictimRead.Load()) }).
			WithTimeout(30*time.Second).WithPolling(10*time.Millisecond).
			Should(BeTemporally(">", killedAt.Add(opTimeout+opSlack)), "keys of the killed master's slots are read again")
		time.Sleep(afterRecovery)
		stopLoad()
		wg.Wait()
		Expect(promoted.Load()).NotTo(BeZero(), "promotion of %s observed", replica.Addr())
		promotedAt := time.Unix(0, promoted.Load())

		By("checking every operation")
		ops := rec.all()
		slices.SortFunc(ops, func(a, b op) int { return a.start.Compare(b.start) })
		var (
			n, failures            int
			slowest                time.Duration
			broken                 []string
			lastFailure            time.Time
			firstVictimOKAfterKill time.Time
		)
		victimKey := map[string]bool{}
		for _, k := range victimKeys {
			victimKey[k] = true
		}
		for _, o := range ops {
			if o.start.Before(killedAt.Add(-time.Second)) {
				continue // the pre-load
			}
			n++
			d := o.end.Sub(o.start)
			slowest = max(slowest, d)
			if d > opTimeout+opSlack {
				broken = append(broken, fmt.Sprintf("%s took %v (err %v)", o.key, d, o.err))
			}
			if o.err != nil {
				failures++
				lastFailure = o.end
				if !typedFailure(o.err) {
					broken = append(broken, fmt.Sprintf("%s failed with an untyped error: %v", o.key, o.err))
				}
				continue
			}
			if o.start.After(killedAt) && victimKey[o.key] && !o.write && firstVictimOKAfterKill.IsZero() {
				firstVictimOKAfterKill = o.end
			}
		}
		Expect(broken).To(BeEmpty(), "operations that broke the contract")
		Expect(wrong.Load()).To(BeZero(), "wrong results: %v", wrongWhat)
		Expect(firstVictimOKAfterKill.IsZero()).To(BeFalse())

		By("reading every acknowledged write back, and writing to the new master")
		for key, want := range confirmed {
			Expect(app.GetValue[int](ctx, cache, key)).To(Equal(want), "replicated key %s", key)
		}
		Expect(clusterNodes.SlotOwner(clusterNodes.SlotsOf(replica)[0])).To(Equal(replica))
		Expect(cache.SetValue(ctx, victimKeys[0], -1)).To(Succeed())
		full, err := cache.MakeKey(victimKeys[0])
		Expect(err).NotTo(HaveOccurred())
		Expect(replica.Do("GET", full)).To(Equal("-1"), "a write to the killed master's slots lands on its former replica")
		Expect(cache.Ping(ctx)).To(Succeed())
		Expect(multi.Ping(ctx)).To(Succeed())

		report := fmt.Sprintf("kill -9 of master %s → replica %s promoted: %v; → first successful read of its slots: %v "+
			"(%v after the promotion); → last failed call: %v. Calls during the failover: %d, %d typed failures, slowest %v; "+
			"no call past its bound, no wrong value.",
			victim.Addr(), replica.Addr(), promotedAt.Sub(killedAt).Round(time.Millisecond),
			firstVictimOKAfterKill.Sub(killedAt).Round(time.Millisecond),
			firstVictimOKAfterKill.Sub(promotedAt).Round(time.Millisecond),
			lastFailure.Sub(killedAt).Round(time.Millisecond), n, failures, slowest.Round(time.Millisecond))
		fmt.Fprintln(GinkgoWriter, report)
		AddReportEntry("cluster failover", report, ReportEntryVisibilityAlways)
	}, SpecTimeout(2*time.Minute))
})
