package tests

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
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
	"github.com/rediscache/rediscache/app/clientcache"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/tests/conformance"
	"github.com/rediscache/rediscache/tests/redistest"
)

// The ClientCache on a Redis Cluster through the cluster's faults: kill -9
// of a master, CLUSTER FAILOVER, resharding under load, a master added and
// given slots, and the two moves nothing announces (a cached miss whose
// empty slot moves; MIGRATE ... COPY). Writers in the process (through the
// ClientCache's site) and in another client run with readers through the
// ClientCache; every call must be bounded and typed, and no read may be
// older than the last acknowledged write once the change is observable.

// ccRig is a process with a ClientCache on the suite's cluster, and
// another process's client of the same data.
type ccRig struct {
	store *cluster.Store
	cc    *clientcache.ClientCache
	site  *clientcache.Site
	peer  *app.Cache
}

// newCCRig starts a ClientCache over a new cluster store (topology refresh
// refresh, 0 for the default), with a peer client, stopped when the spec
// ends.
func newCCRig(ctx context.Context, refresh time.Duration) *ccRig {
	GinkgoHelper()
	conn := connection.Options{DialTimeout: foDialTimeout, ReadTimeout: foReadTimeout, WriteTimeout: foWriteTimeout}
	store, err := cluster.New(cluster.Config{Addrs: clusterNodes.Addrs(), Connection: conn, TopologyRefresh: refresh})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(store.Close)
	peerStore, err := cluster.New(cluster.Config{Addrs: clusterNodes.Addrs(), Connection: conn})
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(peerStore.Close)
	cc, err := clientcache.New(store, clientcache.Config{})
	Expect(err).NotTo(HaveOccurred())
	Expect(cc.Start(ctx)).To(Succeed())
	DeferCleanup(func(ctx context.Context) error { return cc.Stop(ctx) })
	name := conformance.Prefix() + "cc"
	site, err := cc.Site(name)
	Expect(err).NotTo(HaveOccurred())
	peer, err := app.New(peerStore, app.Config{Site: name})
	Expect(err).NotTo(HaveOccurred())
	Expect(cc.Healthy()).To(BeTrue())
	return &ccRig{store: store, cc: cc, site: site, peer: peer}
}

// full returns the Redis key of the site's key.
func (r *ccRig) full(key string) string {
	GinkgoHelper()
	k, err := r.site.Cache().MakeKey(key)
	Expect(err).NotTo(HaveOccurred())
	return k
}

// held reads key through the ClientCache until a read is a local hit
// returning want.
func (r *ccRig) held(ctx context.Context, key, want string) {
	GinkgoHelper()
	Eventually(func(g Gomega) {
		before := r.cc.Statistics().Hits
		v, err := clientcache.GetValue[string](ctx, r.site, key)
		if want == "" {
			g.Expect(err).To(MatchError(domain.ErrNotFound))
		} else {
			g.Expect(err).NotTo(HaveOccurred())
			g.Expect(v).To(Equal(want))
		}
		g.Expect(r.cc.Statistics().Hits).To(BeNumerically(">", before), "a local hit")
	}).WithTimeout(10 * time.Second).WithPolling(time.Millisecond).Should(Succeed())
}

// firstFresh runs change, which makes another client write "new" to key
// and returns when that write was acknowledged, while a reader reads key
// through the ClientCache every 100 µs; it returns how long after the
// acknowledgement the first read that returned "new" ended (0 when it
// ended before).
func (r *ccRig) firstFresh(ctx context.Context, key string, change func() time.Time) time.Duration {
	GinkgoHelper()
	var seen atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	defer func() { close(stop); wg.Wait() }()
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			rctx, cancel := context.WithTimeout(ctx, opTimeout)
			v, err := clientcache.GetValue[string](rctx, r.site, key)
			cancel()
			if err == nil && v == "new" {
				seen.Store(time.Now().UnixNano())
				return
			}
			time.Sleep(100 * time.Microsecond)
		}
	})
	acked := change()
	Eventually(seen.Load).WithTimeout(20*time.Second).WithPolling(time.Millisecond).ShouldNot(BeZero(),
		"the new value is never read through the ClientCache")
	return max(0, time.Unix(0, seen.Load()).Sub(acked))
}

// writeUntilAccepted writes v to key on node directly, again and again,
// until node accepts it as the slot's master; it returns when the
// acknowledgement arrived.
func writeUntilAccepted(ctx context.Context, node *redistest.Server, key, v string) time.Time {
	GinkgoHelper()
	c := redis.NewClient(&redis.Options{Addr: node.Addr(), Protocol: 2, MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		err := c.Set(ctx, key, v, 0).Err()
		if err == nil {
			return time.Now()
		}
		Expect(ctx.Err()).NotTo(HaveOccurred())
		time.Sleep(20 * time.Microsecond)
	}
	Fail("node " + node.Addr() + " never accepted the write")
	return time.Time{}
}

// ccWrite is one write of the load: val was acknowledged at ack (zero
// when the write failed: it may or may not have been applied).
type ccWrite struct {
	val int64
	ack time.Time
	own bool // through the ClientCache's site
}

// ccRead is one successful read of the load (val -1: not found).
type ccRead struct {
	key        string
	start, end time.Time
	val        int64
}

// ccLoad is readers through the ClientCache and writers through its site
// and through the peer, on keys of their own.
type ccLoad struct {
	r    *ccRig
	keys []string

	stop chan struct{}
	wg   sync.WaitGroup

	mu     sync.Mutex
	writes map[string][]ccWrite
	reads  []ccRead
	calls  loadRecorder
}

// startCCLoad writes every key once, then runs the load until stop.
func startCCLoad(ctx context.Context, r *ccRig, ownWriters, peerWriters, readers, keysPer int) *ccLoad {
	GinkgoHelper()
	l := &ccLoad{r: r, stop: make(chan struct{}), writes: map[string][]ccWrite{}}
	type writer struct {
		own  bool
		keys []string
	}
	var ws []writer
	for w := range ownWriters + peerWriters {
		own := w < ownWriters
		var keys []string
		for i := range keysPer {
			k := fmt.Sprintf("w%d-k%d", w, i)
			keys = append(keys, k)
			l.keys = append(l.keys, k)
		}
		ws = append(ws, writer{own, keys})
	}
	for _, w := range ws {
		for _, k := range w.keys {
			l.write(ctx, k, 0, w.own)
		}
	}
	for _, w := range ws {
		l.wg.Go(func() {
			for i := int64(1); ; i++ {
				select {
				case <-l.stop:
					return
				default:
				}
				l.write(ctx, w.keys[int(i)%len(w.keys)], i, w.own)
				time.Sleep(time.Millisecond)
			}
		})
	}
	for rd := range readers {
		rnd := rand.New(rand.NewPCG(uint64(rd), 7))
		l.wg.Go(func() {
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				l.read(ctx, l.keys[rnd.IntN(len(l.keys))])
				time.Sleep(200 * time.Microsecond)
			}
		})
	}
	return l
}

func (l *ccLoad) write(ctx context.Context, key string, v int64, own bool) {
	opCtx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	start := time.Now()
	var err error
	if own {
		err = l.r.site.SetValue(opCtx, key, v)
	} else {
		err = l.r.peer.SetValue(opCtx, key, v)
	}
	end := time.Now()
	l.calls.add(op{write: true, key: key, start: start, end: end, err: err})
	w := ccWrite{val: v, own: own}
	if err == nil {
		w.ack = end
	}
	l.mu.Lock()
	l.writes[key] = append(l.writes[key], w)
	l.mu.Unlock()
}

func (l *ccLoad) read(ctx context.Context, key string) {
	opCtx, cancel := context.WithTimeout(ctx, opTimeout)
	defer cancel()
	start := time.Now()
	v, err := clientcache.GetValue[int64](opCtx, l.r.site, key)
	end := time.Now()
	if errors.Is(err, domain.ErrNotFound) {
		v, err = -1, nil
	}
	l.calls.add(op{key: key, start: start, end: end, err: err})
	if err == nil {
		l.mu.Lock()
		l.reads = append(l.reads, ccRead{key: key, start: start, end: end, val: v})
		l.mu.Unlock()
	}
}

// finish stops the load.
func (l *ccLoad) finish() {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
}

// expectLastWrites reads every key through the ClientCache, once the load
// stopped: each returns its last acknowledged value, or a later one whose
// write failed (it may have been applied).
func (l *ccLoad) expectLastWrites(ctx context.Context) {
	GinkgoHelper()
	for _, k := range l.keys {
		var acked, anyVal int64 = -1, -1
		for _, w := range l.writes[k] {
			anyVal = max(anyVal, w.val)
			if !w.ack.IsZero() {
				acked = max(acked, w.val)
			}
		}
		got, err := clientcache.GetValue[int64](ctx, l.r.site, k)
		Expect(err).NotTo(HaveOccurred())
		Expect(got).To(And(BeNumerically(">=", acked), BeNumerically("<=", anyVal)), k)
	}
}

// ccVerdict is what check found.
type ccVerdict struct {
	calls, failures, reads int
	slowest                time.Duration
	broken                 []string // calls past their bound, untyped errors
	stale                  []string // reads older than allowed
	maxStale               time.Duration
}

// check verifies every call of the load (bounded, typed) and every read:
// not older than an own write acknowledged before it started, nor than a
// peer's write acknowledged more than peerLag before it started. Writes
// acknowledged in lost (a kill: not replicated in time) are ignored for
// keys for which lostKey is true. maxStale is the largest age, at the
// read's start, of a write the read did not see.
func (l *ccLoad) check(peerLag time.Duration, lost [2]time.Time, lostKey func(string) bool) ccVerdict {
	var v ccVerdict
	for _, o := range l.calls.all() {
		v.calls++
		d := o.end.Sub(o.start)
		v.slowest = max(v.slowest, d)
		if d > opTimeout+opSlack {
			v.broken = append(v.broken, fmt.Sprintf("%s took %v (err %v)", o.key, d, o.err))
		}
		if o.err != nil {
			v.failures++
			if !typedFailure(o.err) {
				v.broken = append(v.broken, fmt.Sprintf("%s failed untyped: %v", o.key, o.err))
			}
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, rd := range l.reads {
		v.reads++
		for _, w := range l.writes[rd.key] {
			if w.ack.IsZero() || !w.ack.Before(rd.start) || w.val <= rd.val {
				continue
			}
			if lostKey != nil && lostKey(rd.key) && !w.ack.Before(lost[0]) && w.ack.Before(lost[1]) {
				continue
			}
			age := rd.start.Sub(w.ack)
			v.maxStale = max(v.maxStale, age)
			if w.own || age > peerLag {
				v.stale = append(v.stale, fmt.Sprintf("read %s = %d at %s, but %d (own %v) was acknowledged %v before",
					rd.key, rd.val, rd.start.Format("15:04:05.000000"), w.val, w.own, age))
			}
		}
	}
	return v
}

// describe is the one-line summary of v.
func (v ccVerdict) describe() string {
	return fmt.Sprintf("%d calls, %d typed failures, slowest %v; %d reads checked, oldest unseen write %v",
		v.calls, v.failures, v.slowest.Round(time.Millisecond), v.reads, v.maxStale.Round(time.Microsecond))
}

// expectGood fails the spec with what v found wrong.
func (v ccVerdict) expectGood() {
	GinkgoHelper()
	Expect(v.broken).To(BeEmpty(), "calls that broke the contract")
	Expect(v.stale).To(BeEmpty(), "stale reads")
	Expect(v.reads).To(BeNumerically(">", 100), "reads checked")
}

// slotsOf returns the slots of keys that master serves, in order.
func slotsOf(r *ccRig, keys []string, master *redistest.Server) []int {
	GinkgoHelper()
	mine := map[int]bool{}
	for _, s := range clusterNodes.SlotsOf(master) {
		mine[s] = true
	}
	var out []int
	for _, k := range keys {
		if s := clusterNodes.Slot(r.full(k)); mine[s] && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	sort.Ints(out)
	return out
}

// recovered waits until the ClientCache is healthy and holds a key
// locally again, and returns when.
func recovered(ctx context.Context, r *ccRig, key string) time.Time {
	GinkgoHelper()
	Eventually(r.cc.Healthy).WithTimeout(30 * time.Second).WithPolling(time.Millisecond).Should(BeTrue())
	Eventually(func() bool {
		before := r.cc.Statistics().Hits
		_, _ = clientcache.GetValue[int64](ctx, r.site, key)
		return r.cc.Statistics().Hits > before
	}).WithTimeout(10*time.Second).WithPolling(time.Millisecond).Should(BeTrue(), "local hits again")
	return time.Now()
}

const (
	// peerLag is how old a peer's write may be when a read that started
	// after it does not see it yet: its invalidation in flight, under
	// -race on two cores. The largest age seen is reported.
	peerLag = 100 * time.Millisecond
	// unannounced bounds the stale window of a slot move nothing
	// announces, beyond the topology refresh interval.
	unannounced = 500 * time.Millisecond
)

var _ = Describe("ClientCache on a cluster through faults", Label("redis", "cluster", "clientcache", "failover"), Serial, func() {
	BeforeEach(func() {
		// A replica resynchronising from an RDB snapshot cannot load a
		// RediSearch 1.2 dictionary corrupted on purpose by the
		// conformance suite: start empty.
		Expect(clusterNodes.FlushAll()).To(Succeed())
	})

	// A timing target on a shared two-core machine under -race: the
	// median of 7 runs must meet it, and a spec that misses it is run once
	// more (Ginkgo reports it as flaky). Isolated runs here give medians of
	// 2-5 ms; once, in a full CI run, 13.5 ms. Without the reaction to the
	// failover (ROLE probes, MOVED) the window is the 40-80 ms it was, or
	// more: the bound still catches that.
	It("serves the new master's write within 10 ms of a CLUSTER FAILOVER (7 runs, reported)", FlakeAttempts(2), func(ctx SpecContext) {
		r := newCCRig(ctx, 0)
		var windows []time.Duration
		for run := range 7 {
			key := fmt.Sprintf("failover-%d", run)
			full := r.full(key)
			master := clusterNodes.MasterFor(full)
			replica := clusterNodes.ReplicaOf(master)
			Expect(replica).NotTo(BeNil())
			Expect(r.peer.SetValue(ctx, key, "old")).To(Succeed())
			Eventually(r.cc.Healthy).WithTimeout(30 * time.Second).Should(BeTrue())
			r.held(ctx, key, "old")
			w := r.firstFresh(ctx, key, func() time.Time {
				Expect(replica.Do("CLUSTER", "FAILOVER")).To(Equal("OK"))
				return writeUntilAccepted(ctx, replica, full, `"new"`)
			})
			windows = append(windows, w)
			clusterNodes.WaitSettled(GinkgoT())
		}
		sorted := slices.Clone(windows)
		slices.Sort(sorted)
		report := fmt.Sprintf("CLUSTER FAILOVER: first read of the new master's write through the ClientCache after its acknowledgement: runs %v; median %v, max %v",
			windows, sorted[3], sorted[6])
		fmt.Fprintln(GinkgoWriter, report)
		AddReportEntry("cluster failover stale window", report, ReportEntryVisibilityAlways)
		Expect(sorted[3]).To(BeNumerically("<=", 10*time.Millisecond), "median stale window")
		Expect(sorted[6]).To(BeNumerically("<=", 50*time.Millisecond), "worst stale window (a loaded two-core machine)")
	}, SpecTimeout(3*time.Minute))

	It("survives kill -9 of a master under load: bounded typed calls, no stale read, caching resumes", func(ctx SpecContext) {
		r := newCCRig(ctx, 0)
		load := startCCLoad(ctx, r, 2, 2, 4, 12)
		defer load.finish()
		victim := clusterNodes.MasterFor(r.full(load.keys[0]))
		replica := clusterNodes.ReplicaOf(victim)
		Expect(replica).NotTo(BeNil())
		DeferCleanup(func() { clusterNodes.Restart(GinkgoT(), victim) })
		victimSlots := map[int]bool{}
		for _, s := range clusterNodes.SlotsOf(victim) {
			victimSlots[s] = true
		}
		onVictim := map[string]bool{}
		for _, k := range load.keys {
			onVictim[k] = victimSlots[clusterNodes.Slot(r.full(k))]
		}
		var promoted atomic.Int64
		stopWatch := make(chan struct{})
		var watchWG sync.WaitGroup
		defer func() { close(stopWatch); watchWG.Wait() }()
		watchWG.Go(func() {
			for {
				select {
				case <-stopWatch:
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
		masters := len(clusterNodes.Masters())
		Eventually(r.store.TrackingSessions).WithTimeout(30*time.Second).Should(Equal(masters), "a live tracking session per master")
		time.Sleep(500 * time.Millisecond) // load before the fault
		killed := time.Now()
		victim.Kill()
		Eventually(r.store.TrackingSessions).WithTimeout(30*time.Second).WithPolling(time.Millisecond).
			Should(Equal(masters-1), "the killed master's tracking session ends")
		Eventually(promoted.Load).WithTimeout(30 * time.Second).ShouldNot(BeZero())
		promotedAt := time.Unix(0, promoted.Load())
		back := recovered(ctx, r, load.keys[0])
		Eventually(r.store.TrackingSessions).WithTimeout(30*time.Second).Should(Equal(masters), "a session on the promoted replica")
		time.Sleep(500 * time.Millisecond) // load after recovery
		load.finish()

		// Writes acknowledged by the victim shortly before the kill may
		// not have been replicated: Redis replication is asynchronous.
		v := load.check(peerLag, [2]time.Time{killed.Add(-200 * time.Millisecond), promotedAt}, func(k string) bool { return onVictim[k] })
		report := fmt.Sprintf("kill -9 of %s: replica promoted after %v; ClientCache healthy with local hits %v after the kill (%v after the promotion); %s",
			victim.Addr(), promotedAt.Sub(killed).Round(time.Millisecond), back.Sub(killed).Round(time.Millisecond),
			back.Sub(promotedAt).Round(time.Millisecond), v.describe())
		fmt.Fprintln(GinkgoWriter, report)
		AddReportEntry("cluster kill -9 with ClientCache", report, ReportEntryVisibilityAlways)
		v.expectGood()
	}, SpecTimeout(3*time.Minute))

	It("follows a CLUSTER FAILOVER under load: bounded typed calls, no stale read, caching resumes", func(ctx SpecContext) {
		r := newCCRig(ctx, 0)
		load := startCCLoad(ctx, r, 2, 2, 4, 12)
		defer load.finish()
		master := clusterNodes.MasterFor(r.full(load.keys[0]))
		replica := clusterNodes.ReplicaOf(master)
		time.Sleep(500 * time.Millisecond)
		start := time.Now()
		clusterNodes.Failover(GinkgoT(), replica)
		settled := time.Now()
		back := recovered(ctx, r, load.keys[0])
		time.Sleep(500 * time.Millisecond)
		load.finish()
		v := load.check(peerLag, [2]time.Time{}, nil)
		report := fmt.Sprintf("CLUSTER FAILOVER to %s under load: settled %v after the command, ClientCache healthy with local hits %v after it; %s",
			replica.Addr(), settled.Sub(start).Round(time.Millisecond), back.Sub(start).Round(time.Millisecond), v.describe())
		fmt.Fprintln(GinkgoWriter, report)
		AddReportEntry("cluster CLUSTER FAILOVER with ClientCache", report, ReportEntryVisibilityAlways)
		v.expectGood()
	}, SpecTimeout(3*time.Minute))

	It("follows a reshard of slots that hold cached keys while readers and writers run", func(ctx SpecContext) {
		r := newCCRig(ctx, 0)
		load := startCCLoad(ctx, r, 2, 2, 4, 16)
		defer load.finish()
		masters := clusterNodes.Masters()
		from, to := masters[0], masters[1]
		slots := slotsOf(r, load.keys, from)
		Expect(slots).NotTo(BeEmpty())
		time.Sleep(500 * time.Millisecond)
		start := time.Now()
		clusterNodes.MoveSlots(GinkgoT(), to, slots...)
		moved := time.Now()
		back := recovered(ctx, r, load.keys[0])
		time.Sleep(500 * time.Millisecond)
		load.finish()
		v := load.check(peerLag, [2]time.Time{}, nil)
		report := fmt.Sprintf("reshard of %d slots holding cached keys from %s to %s under load (SETSLOT MIGRATING/IMPORTING, MIGRATE, SETSLOT NODE) in %v; ClientCache healthy with local hits %v after the start; %s",
			len(slots), from.Addr(), to.Addr(), moved.Sub(start).Round(time.Millisecond), back.Sub(start).Round(time.Millisecond), v.describe())
		fmt.Fprintln(GinkgoWriter, report)
		AddReportEntry("cluster reshard with ClientCache", report, ReportEntryVisibilityAlways)
		v.expectGood()
		load.expectLastWrites(ctx)
	}, SpecTimeout(3*time.Minute))

	It("follows slots moved to a newly added master while readers and writers run", func(ctx SpecContext) {
		r := newCCRig(ctx, 0)
		load := startCCLoad(ctx, r, 2, 2, 4, 16)
		defer load.finish()
		time.Sleep(300 * time.Millisecond)
		start := time.Now()
		added := clusterNodes.AddMaster(GinkgoT())
		var moved []int
		owners := map[int]*redistest.Server{}
		for _, m := range clusterNodes.Masters() {
			if m == added {
				continue
			}
			for _, s := range slotsOf(r, load.keys, m) {
				owners[s] = m
				moved = append(moved, s)
			}
		}
		// Give the slots back when done, and take the new master out of
		// the cluster, which the next specs expect as it was.
		DeferCleanup(func() {
			for s, m := range owners {
				clusterNodes.MoveSlots(GinkgoT(), m, s)
			}
			clusterNodes.RemoveNode(GinkgoT(), added)
		})
		clusterNodes.MoveSlots(GinkgoT(), added, moved...)
		movedAt := time.Now()
		back := recovered(ctx, r, load.keys[0])
		time.Sleep(500 * time.Millisecond)
		load.finish()
		v := load.check(peerLag, [2]time.Time{}, nil)
		report := fmt.Sprintf("master %s added and given %d slots holding cached keys under load in %v; ClientCache healthy with local hits %v after the start; %s",
			added.Addr(), len(moved), movedAt.Sub(start).Round(time.Millisecond), back.Sub(start).Round(time.Millisecond), v.describe())
		fmt.Fprintln(GinkgoWriter, report)
		AddReportEntry("cluster add master with ClientCache", report, ReportEntryVisibilityAlways)
		v.expectGood()
		full := r.full(load.keys[0])
		Expect(clusterNodes.MasterFor(full)).To(Equal(added))
		// Values of the new master's slots are cached and tracked there.
		Expect(r.peer.SetValue(ctx, load.keys[0], int64(1<<40))).To(Succeed())
		Eventually(func() (int64, error) { return clientcache.GetValue[int64](ctx, r.site, load.keys[0]) }).
			WithTimeout(5 * time.Second).WithPolling(time.Millisecond).Should(Equal(int64(1 << 40)))
		recovered(ctx, r, load.keys[0])
	}, SpecTimeout(3*time.Minute))

	It("takes an UNBLOCKED of its failover watch as a demotion, and resumes caching on that master", func(ctx SpecContext) {
		r := newCCRig(ctx, 200*time.Millisecond)
		key := "watched"
		full := r.full(key)
		master := clusterNodes.MasterFor(full)
		Expect(r.peer.SetValue(ctx, key, "v")).To(Succeed())
		r.held(ctx, key, "v")
		// The watch is the one client blocked in BLPOP on that master.
		var id string
		Eventually(func() string {
			list, err := master.Do("CLIENT", "LIST")
			Expect(err).NotTo(HaveOccurred())
			id = ""
			for line := range strings.SplitSeq(list, "\n") {
				if strings.Contains(line, "cmd=blpop") {
					id = strings.TrimPrefix(strings.Fields(line)[0], "id=")
				}
			}
			return id
		}).WithTimeout(5 * time.Second).ShouldNot(BeEmpty())
		dropped := r.cc.Statistics().Dropped
		Expect(master.Do("CLIENT", "UNBLOCK", id, "ERROR")).To(Equal("1"))
		Eventually(func() uint64 { return r.cc.Statistics().Dropped }).
			WithTimeout(5*time.Second).Should(BeNumerically(">", dropped), "the master's values dropped")
		// Not a real demotion: the next refresh finds the master serving,
		// and its keys are cached again.
		Expect(r.peer.SetValue(ctx, key, "w")).To(Succeed())
		r.held(ctx, key, "w")
		Expect(clusterNodes.MasterFor(full)).To(Equal(master))
	})

	// Unannounced moves: the old owner sends no invalidation, no read gets
	// MOVED. The topology refresh bounds the stale window.
	DescribeTable("drops a value whose slot moved unannounced within the topology refresh",
		func(sctx SpecContext, refresh time.Duration, copyMove bool) {
			ctx, cancel := context.WithTimeout(sctx, 2*time.Minute)
			defer cancel()
			r := newCCRig(ctx, refresh)
			bound := refresh
			if bound == 0 {
				bound = cluster.DefaultTopologyRefresh
			}
			var windows []time.Duration
			for run := range 3 {
				key := fmt.Sprintf("unannounced-%d", run)
				full := r.full(key)
				from := clusterNodes.MasterFor(full)
				var to *redistest.Server
				for _, m := range clusterNodes.Masters() {
					if m != from {
						to = m
						break
					}
				}
				slot := clusterNodes.Slot(full)
				if copyMove {
					Expect(r.peer.SetValue(ctx, key, "old")).To(Succeed())
					r.held(ctx, key, "old")
				} else {
					n, err := from.Do("CLUSTER", "COUNTKEYSINSLOT", fmt.Sprint(slot))
					Expect(err).NotTo(HaveOccurred())
					Expect(n).To(Equal("0"), "an empty slot")
					r.held(ctx, key, "") // a cached miss
				}
				w := r.firstFresh(ctx, key, func() time.Time {
					if copyMove {
						clusterNodes.MoveSlotCopy(GinkgoT(), to, slot)
					} else {
						clusterNodes.MoveSlots(GinkgoT(), to, slot)
					}
					return writeUntilAccepted(ctx, to, full, `"new"`)
				})
				windows = append(windows, w)
			}
			what := "a cached miss whose empty slot moved"
			if copyMove {
				what = "a value whose slot moved by MIGRATE ... COPY"
			}
			report := fmt.Sprintf("%s, the key then written on the new owner, topology refresh %v: fresh after %v", what, bound, windows)
			fmt.Fprintln(GinkgoWriter, report)
			AddReportEntry("cluster unannounced move", report, ReportEntryVisibilityAlways)
			Expect(slices.Max(windows)).To(BeNumerically("<=", bound+unannounced))
		},
		Entry("a cached miss on an empty slot, default refresh", 0*time.Second, false),
		Entry("MIGRATE ... COPY, default refresh", 0*time.Second, true),
		Entry("a cached miss on an empty slot, 200 ms refresh", 200*time.Millisecond, false),
		Entry("MIGRATE ... COPY, 200 ms refresh", 200*time.Millisecond, true),
	)
})
