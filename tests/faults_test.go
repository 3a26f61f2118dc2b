package tests

import (
	"context"
	"errors"
	"fmt"
	"github.com/rediscache/rediscache/adapters/connection"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/rediscache/rediscache/adapters/standalone"
	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/app/clientcache"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/tests/conformance"
	"github.com/rediscache/rediscache/tests/redistest"
	"github.com/rediscache/rediscache/tests/storetest"
)

// Client settings of the load harness: short timeouts, so a fault turns into
// errors quickly, and at most faultAttempts attempts per command.
const (
	faultDial     = 200 * time.Millisecond
	faultRW       = 300 * time.Millisecond
	faultRetries  = 2 // go-redis retries: 3 attempts in all
	faultAttempts = faultRetries + 1
	faultWait     = 300 * time.Millisecond // ClientCache WaitTimeout
)

// faultCallBound bounds every call of the harness. One attempt of a command
// is at most Dial+Write+Read (a pause accepts the connection, takes the
// command and never answers: the read times out); go-redis makes
// faultAttempts of them, with a retry backoff of at most 512 ms between
// them. A ClientCache read may first wait faultWait for another reader's
// fetch and then fall back to a fetch of its own. 1 s of slack covers the
// race detector and scheduling: 3×800 ms + 2×512 ms + 300 ms + 1 s ≈ 4.7 s.
// A hung call (no deadline at all) would exceed it by far.
const faultCallBound = faultAttempts*(faultDial+2*faultRW) + faultRetries*512*time.Millisecond + faultWait + time.Second

func faultConfig(addr string) standalone.Config {
	return standalone.Config{Addr: addr, Connection: connection.Options{DialTimeout: faultDial, ReadTimeout: faultRW, WriteTimeout: faultRW, MaxRetries: faultRetries}}
}

// loadHarness runs readers through a ClientCache and through a plain Cache,
// and writers through a separate plain store, on a small key set. Each key
// holds an increasing int version; writes of one key are serialised by the
// key's mutex, so Redis itself never goes back.
type loadHarness struct {
	srv     *redistest.Server
	tracked *standalone.Store
	cc      *clientcache.ClientCache
	sc      *clientcache.Site
	plain   *app.Cache // readers
	writer  *app.Cache // writers
	counted *storetest.Store
	keys    []string

	mu    []sync.Mutex
	next  []int64        // next version to write, under mu
	acked []atomic.Int64 // last acknowledged version
	floor []atomic.Int64 // freshness floor: invalidation applied
	stale []atomic.Int64 // versions <= stale[k] must not appear once observable

	gets sync.Map // full key -> *atomic.Int64: backend reads (Fetch, Get) of the ClientCache

	armed      atomic.Bool // kill spec: observable may be set
	observable atomic.Bool

	allowNotFound bool
	barrier       bool // writers run the freshness barrier after each write

	vmu        sync.Mutex
	violations []string
	staleness  []time.Duration
	maxCall    atomic.Int64
	reads      atomic.Int64
	writes     atomic.Int64
	errs       atomic.Int64 // errors other than context ones
}

func newLoadHarness(ctx context.Context, srv *redistest.Server, nkeys int) *loadHarness {
	GinkgoHelper()
	tracked, err := standalone.New(faultConfig(srv.Addr()))
	Expect(err).NotTo(HaveOccurred())
	readStore, err := standalone.New(faultConfig(srv.Addr()))
	Expect(err).NotTo(HaveOccurred())
	writeStore, err := standalone.New(faultConfig(srv.Addr()))
	Expect(err).NotTo(HaveOccurred())
	DeferCleanup(func() error { return errors.Join(tracked.Close(), readStore.Close(), writeStore.Close()) })

	h := &loadHarness{srv: srv}
	site := conformance.Prefix() + "site"
	h.tracked = tracked
	h.counted = storetest.Wrap(tracked)
	count := func(_ context.Context, key string) { h.getCounter(key).Add(1) }
	h.counted.OnCall("Fetch", count)
	h.counted.OnCall("Get", count)
	h.plain, err = app.New(readStore, app.Config{Site: site})
	Expect(err).NotTo(HaveOccurred())
	h.writer, err = app.New(writeStore, app.Config{Site: site})
	Expect(err).NotTo(HaveOccurred())
	h.cc, err = clientcache.New(h.counted, clientcache.Config{WaitTimeout: faultWait})
	Expect(err).NotTo(HaveOccurred())
	h.sc, err = h.cc.Site(site)
	Expect(err).NotTo(HaveOccurred())
	Expect(h.cc.Start(ctx)).To(Succeed())
	DeferCleanup(func(ctx context.Context) error { return h.cc.Stop(ctx) })

	for i := range nkeys {
		h.keys = append(h.keys, "k"+strconv.Itoa(i))
	}
	h.mu = make([]sync.Mutex, nkeys)
	h.next = make([]int64, nkeys)
	h.acked = make([]atomic.Int64, nkeys)
	h.floor = make([]atomic.Int64, nkeys)
	h.stale = make([]atomic.Int64, nkeys)
	for i, k := range h.keys {
		Expect(h.writer.SetValue(ctx, k, 1)).To(Succeed())
		h.next[i] = 2
		h.acked[i].Store(1)
	}
	Eventually(h.cc.Healthy).WithTimeout(5 * time.Second).WithPolling(time.Millisecond).Should(BeTrue())
	return h
}

func (h *loadHarness) getCounter(fullKey string) *atomic.Int64 {
	c, _ := h.gets.LoadOrStore(fullKey, new(atomic.Int64))
	return c.(*atomic.Int64)
}

func (h *loadHarness) backendGets(key string) int64 {
	k, err := h.sc.Cache().MakeKey(key)
	if err != nil {
		return -1
	}
	return h.getCounter(k).Load()
}

func (h *loadHarness) violate(format string, args ...any) {
	h.vmu.Lock()
	defer h.vmu.Unlock()
	if len(h.violations) < 20 {
		h.violations = append(h.violations, fmt.Sprintf(format, args...))
	}
}

// timed runs call, checks its duration against faultCallBound and its error
// against the allowed kinds, and returns the error.
func (h *loadHarness) timed(what string, call func() error) error {
	start := time.Now()
	err := call()
	d := time.Since(start)
	for {
		m := h.maxCall.Load()
		if int64(d) <= m || h.maxCall.CompareAndSwap(m, int64(d)) {
			break
		}
	}
	if d > faultCallBound {
		h.violate("%s took %v > bound %v (err %v)", what, d, faultCallBound, err)
	}
	if err != nil {
		if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			h.errs.Add(1) // the end of the load's ctx is no failure
		}
		ok := errors.Is(err, domain.ErrUnavailable) || errors.Is(err, context.Canceled) ||
			errors.Is(err, context.DeadlineExceeded) || h.allowNotFound && errors.Is(err, domain.ErrNotFound)
		if !ok {
			h.violate("%s: unexpected error %v", what, err)
		}
	}
	return err
}

// guard turns a panic of a load goroutine into a violation.
func (h *loadHarness) guard(name string) {
	if r := recover(); r != nil {
		h.violate("%s panicked: %v", name, r)
	}
}

// read reads key i through the ClientCache (viaCC) or the plain Cache and
// checks monotonicity (last), freshness (floor) and, once the fault is
// observable, that no pre-fault value appears.
func (h *loadHarness) read(ctx context.Context, name string, viaCC bool, i int, last []int64) {
	f := h.floor[i].Load()
	obs := h.observable.Load()
	staleMax := h.stale[i].Load()
	var v int64
	err := h.timed(name+" read "+h.keys[i], func() error {
		var err error
		if viaCC {
			v, err = clientcache.GetValue[int64](ctx, h.sc, h.keys[i])
		} else {
			v, err = app.GetValue[int64](ctx, h.plain, h.keys[i])
		}
		return err
	})
	h.reads.Add(1)
	if err != nil {
		if h.armed.Load() {
			h.observable.Store(true)
		}
		return
	}
	if v < last[i] {
		h.violate("%s: %s went back from %d to %d", name, h.keys[i], last[i], v)
	}
	if viaCC && v < f {
		h.violate("%s: %s read %d below the floor %d (stale after invalidation)", name, h.keys[i], v, f)
	}
	if viaCC && obs && v <= staleMax {
		h.violate("%s: %s read %d, a pre-fault value (<= %d), after the fault was observable", name, h.keys[i], v, staleMax)
	}
	last[i] = v
}

// write writes the next version of key i, retrying the same version until it
// is acknowledged (so a late retry can never overwrite a newer version), then
// runs the freshness barrier when asked. It returns false when ctx ended.
func (h *loadHarness) write(ctx context.Context, name string, i int, marker string, round *int64) bool {
	var v int64
	for {
		if ctx.Err() != nil {
			return false
		}
		h.mu[i].Lock()
		v = h.next[i]
		err := h.timed(name+" write "+h.keys[i], func() error { return h.writer.SetValue(ctx, h.keys[i], v) })
		if err == nil {
			h.acked[i].Store(v)
			h.next[i]++
		}
		h.mu[i].Unlock()
		h.writes.Add(1)
		if err == nil {
			break
		}
		select { // back off from a down server (load pacing, not synchronisation)
		case <-ctx.Done():
			return false
		case <-time.After(5 * time.Millisecond):
		}
	}
	if h.barrier {
		h.barrierAfter(ctx, name, i, v, marker, round)
	}
	return true
}

// barrierAfter waits until the invalidation of the write of version v of key
// i has been applied, then raises the key's floor to v. The marker key is
// this writer's own: once it is confirmed local (a second read made no
// backend Get), the writer changes it and waits until the ClientCache
// returns the new marker. Invalidations arrive in order on one connection,
// so the key's invalidation (sent before the marker's) has been applied by
// then. A clear of the local cache on the way (a lost subscription) is safe
// too: it dropped the key's old copy after the write returned. On any error
// the floor is left alone.
func (h *loadHarness) barrierAfter(ctx context.Context, name string, i int, v int64, marker string, round *int64) {
	start := time.Now()
	deadline := start.Add(5 * time.Second)
	for {
		if ctx.Err() != nil || time.Now().After(deadline) {
			return
		}
		if _, err := clientcache.GetValue[int64](ctx, h.sc, marker); err != nil && !errors.Is(err, domain.ErrNotFound) {
			return
		}
		before := h.backendGets(marker)
		if _, err := clientcache.GetValue[int64](ctx, h.sc, marker); err != nil && !errors.Is(err, domain.ErrNotFound) {
			return
		}
		if h.backendGets(marker) == before {
			break // local
		}
	}
	*round++
	if err := h.timed(name+" write marker", func() error { return h.writer.SetValue(ctx, marker, *round) }); err != nil {
		return
	}
	for {
		if ctx.Err() != nil || time.Now().After(deadline) {
			if ctx.Err() == nil {
				h.violate("%s: marker %s not fresh after 5 s", name, marker)
			}
			return
		}
		m, err := clientcache.GetValue[int64](ctx, h.sc, marker)
		if err != nil && !errors.Is(err, domain.ErrUnavailable) {
			return
		}
		if err == nil && m == *round {
			break
		}
	}
	d := time.Since(start)
	for {
		f := h.floor[i].Load()
		if f >= v || h.floor[i].CompareAndSwap(f, v) {
			break
		}
	}
	h.vmu.Lock()
	h.staleness = append(h.staleness, d)
	h.vmu.Unlock()
}

// load runs ccReaders + plainReaders readers and writers writers until ctx
// ends or maxOps calls per goroutine, and returns a wait function.
func (h *loadHarness) load(ctx context.Context, ccReaders, plainReaders, writers int, maxOps int) func() {
	var wg sync.WaitGroup
	for r := range ccReaders + plainReaders {
		viaCC := r < ccReaders
		name := fmt.Sprintf("reader%d(cc=%v)", r, viaCC)
		wg.Go(func() {
			defer h.guard(name)
			last := make([]int64, len(h.keys))
			for n := 0; n < maxOps && ctx.Err() == nil; n++ {
				h.read(ctx, name, viaCC, (n+r)%len(h.keys), last)
			}
		})
	}
	for w := range writers {
		name := fmt.Sprintf("writer%d", w)
		marker := fmt.Sprintf("marker%d", w)
		wg.Go(func() {
			defer h.guard(name)
			var round int64
			for n := 0; n < maxOps; n++ {
				if !h.write(ctx, name, (n+w)%len(h.keys), marker, &round) {
					return
				}
			}
		})
	}
	return wg.Wait
}

// watchHealth marks the fault observable once Healthy is false after arming.
func (h *loadHarness) watchHealth(ctx context.Context) func() {
	var wg sync.WaitGroup
	wg.Go(func() {
		defer h.guard("health watcher")
		t := time.NewTicker(200 * time.Microsecond)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if h.armed.Load() && !h.cc.Healthy() {
					h.observable.Store(true)
				}
			}
		}
	})
	return wg.Wait
}

// recovered returns a condition that holds once the ClientCache is healthy
// and serves, as a local hit, a probe value written after the fault ended.
func (h *loadHarness) recovered(ctx context.Context) func() bool {
	var n int64
	return func() bool {
		n++
		if h.writer.SetValue(ctx, "probe", n) != nil || !h.cc.Healthy() {
			return false
		}
		if v, err := clientcache.GetValue[int64](ctx, h.sc, "probe"); err != nil || v != n {
			return false
		}
		before := h.backendGets("probe")
		v, err := clientcache.GetValue[int64](ctx, h.sc, "probe")
		return err == nil && v == n && h.backendGets("probe") == before && h.cc.Healthy()
	}
}

// verify asserts the run found no violation and logs its figures.
func (h *loadHarness) verify(name string) {
	GinkgoHelper()
	h.vmu.Lock()
	defer h.vmu.Unlock()
	fmt.Fprintf(GinkgoWriter, "%s: %d reads, %d writes, %d errors, slowest call %v (bound %v), %d barriers\n",
		name, h.reads.Load(), h.writes.Load(), h.errs.Load(), time.Duration(h.maxCall.Load()), faultCallBound, len(h.staleness))
	AddReportEntry(name+": slowest call", time.Duration(h.maxCall.Load()))
	Expect(h.violations).To(BeEmpty())
	Expect(h.reads.Load()).To(BeNumerically(">", 0))
	Expect(h.writes.Load()).To(BeNumerically(">", 0))
}

func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// reportStaleness reports the barrier latencies: from a write's return to
// its invalidation having been applied (an upper bound: it includes the
// marker round trip).
func (h *loadHarness) reportStaleness(name string) {
	h.vmu.Lock()
	defer h.vmu.Unlock()
	p50, p99 := percentile(h.staleness, 0.50), percentile(h.staleness, 0.99)
	fmt.Fprintf(GinkgoWriter, "%s: staleness over %d writes: p50 %v, p99 %v\n", name, len(h.staleness), p50, p99)
	AddReportEntry(name+": staleness p50", p50)
	AddReportEntry(name+": staleness p99", p99)
}

// The ClientCache under mixed load, with and without faults, each spec on a
// private redis-server so that the shared one is never paused or killed.
var _ = Describe("ClientCache under mixed load and faults", Label("redis", "faults"), Serial, func() {
	var (
		ctx context.Context
		h   *loadHarness
	)
	const loadFor = 3 * time.Second
	BeforeEach(func() {
		ctx = context.Background()
		h = newLoadHarness(ctx, redistest.StartServer(GinkgoT()), 4)
	})

	It("keeps every call bounded and reads monotonic and fresh without faults", func() {
		h.barrier = true
		lctx, cancel := context.WithTimeout(ctx, loadFor)
		defer cancel()
		h.load(lctx, 6, 2, 3, 1_000_000)()
		h.verify("no fault")
		h.reportStaleness("no fault")
		h.vmu.Lock()
		barriers := len(h.staleness)
		h.vmu.Unlock()
		Expect(barriers).To(BeNumerically(">", 10), "the freshness barrier never completed")
		Expect(h.errs.Load()).To(BeZero())
	})

	It("fails fast during CLIENT PAUSE ALL, serves nothing stale and recovers", func() {
		h.barrier = true
		lctx, cancel := context.WithTimeout(ctx, loadFor+2*time.Second)
		defer cancel()
		wait := h.load(lctx, 6, 2, 2, 1_000_000)
		// Let the load run for a while before the fault (load duration).
		Eventually(h.reads.Load).WithTimeout(5 * time.Second).Should(BeNumerically(">", 500))
		const pause = 1500 * time.Millisecond
		paused := time.Now()
		_, err := h.srv.Do("CLIENT", "PAUSE", strconv.Itoa(int(pause/time.Millisecond)), "ALL")
		Expect(err).NotTo(HaveOccurred())
		faultEnd := paused.Add(pause)
		// Calls fail within their bounds during the pause.
		Eventually(h.errs.Load).WithTimeout(pause).WithPolling(time.Millisecond).Should(BeNumerically(">", 0))
		Eventually(func() bool { return time.Now().After(faultEnd) }).WithTimeout(2 * pause).WithPolling(time.Millisecond).Should(BeTrue())
		// A write acknowledged after the pause is visible once its
		// invalidation is applied: the floor moves past it.
		acked := h.acked[0].Load()
		Eventually(h.floor[0].Load).WithTimeout(10 * time.Second).WithPolling(time.Millisecond).Should(BeNumerically(">", acked))
		Eventually(h.recovered(ctx)).WithTimeout(recoveryTimeout).WithPolling(time.Millisecond).Should(BeTrue())
		rec := time.Since(faultEnd)
		wait()
		fmt.Fprintf(GinkgoWriter, "CLIENT PAUSE: pause end to recovery %v\n", rec)
		AddReportEntry("CLIENT PAUSE ALL 1500 ms: pause end to recovery", rec)
		h.verify("client pause")
		h.reportStaleness("client pause")
		Expect(h.errs.Load()).To(BeNumerically(">", 0), "the pause caused no error: it was not seen")
	})

	It("keeps reads monotonic through a write storm and ends on the last write", func() {
		lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		h.load(lctx, 6, 2, 16, 1_000_000)()
		h.verify("write storm")
		Expect(h.errs.Load()).To(BeZero())
		for i, k := range h.keys {
			acked := h.acked[i].Load()
			Expect(acked).To(BeNumerically(">", 50), "not much of a storm on %s", k)
			// The last write may have been applied although its call
			// returned the load's deadline (context deadlines are
			// honoured): Redis holds acked or the version after it.
			want, err := app.GetValue[int64](ctx, h.writer, k)
			Expect(err).NotTo(HaveOccurred())
			Expect(want).To(Or(Equal(acked), Equal(acked+1)), k)
			Eventually(func() (int64, error) { return clientcache.GetValue[int64](ctx, h.sc, k) }).
				WithTimeout(5*time.Second).WithPolling(time.Millisecond).Should(Equal(want), k)
		}
		fmt.Fprintf(GinkgoWriter, "write storm: %d writes\n", h.writes.Load())
	})

	It("never serves a pre-crash value after kill -9 and restart under load, and recovers", func() {
		h.allowNotFound = true
		lctx, cancel := context.WithTimeout(ctx, loadFor+3*time.Second)
		defer cancel()
		wait := h.load(lctx, 6, 2, 2, 1_000_000)
		waitWatch := h.watchHealth(lctx)
		Eventually(h.reads.Load).WithTimeout(5 * time.Second).Should(BeNumerically(">", 500))

		h.srv.Kill()
		// Every version acknowledged before the crash is gone with it.
		for i := range h.keys {
			h.mu[i].Lock()
			h.stale[i].Store(h.acked[i].Load())
			h.mu[i].Unlock()
		}
		h.armed.Store(true)
		Eventually(h.observable.Load).WithTimeout(recoveryTimeout).WithPolling(time.Millisecond).Should(BeTrue())
		h.srv.Restart(GinkgoT())
		restarted := time.Now()
		// A version written after the restart is what the ClientCache
		// returns.
		for i, k := range h.keys {
			stale := h.stale[i].Load()
			Eventually(func() (int64, error) { return clientcache.GetValue[int64](ctx, h.sc, k) }).
				WithTimeout(recoveryTimeout).WithPolling(time.Millisecond).Should(BeNumerically(">", stale), k)
		}
		Eventually(h.recovered(ctx)).WithTimeout(recoveryTimeout).WithPolling(time.Millisecond).Should(BeTrue())
		rec := time.Since(restarted)
		wait()
		cancel()
		waitWatch()
		fmt.Fprintf(GinkgoWriter, "kill -9 + restart: restart to recovery %v\n", rec)
		AddReportEntry("kill -9 + restart under load: restart to recovery", rec)
		h.verify("kill -9 + restart")
	})
	// killUnderLoad kills connections matching pick (from CLIENT LIST) under
	// load and checks freshness, bounds and recovery.
	killUnderLoad := func(name string, pick func(c map[string]string, listener string) bool) {
		h.barrier = true
		lctx, cancel := context.WithTimeout(ctx, loadFor+2*time.Second)
		defer cancel()
		wait := h.load(lctx, 6, 2, 2, 1_000_000)
		Eventually(h.reads.Load).WithTimeout(5 * time.Second).Should(BeNumerically(">", 500))
		listener := strconv.FormatInt(h.tracked.TrackingID(), 10)
		killed := 0
		for _, c := range clientList(h.srv) {
			if pick(c, listener) {
				_, err := h.srv.Do("CLIENT", "KILL", "ID", c["id"])
				Expect(err).NotTo(HaveOccurred())
				killed++
			}
		}
		Expect(killed).To(BeNumerically(">", 0), "no connection matched")
		start := time.Now()
		acked := h.acked[0].Load()
		Eventually(h.floor[0].Load).WithTimeout(10 * time.Second).WithPolling(time.Millisecond).Should(BeNumerically(">", acked))
		Eventually(h.recovered(ctx)).WithTimeout(recoveryTimeout).WithPolling(time.Millisecond).Should(BeTrue())
		rec := time.Since(start)
		wait()
		fmt.Fprintf(GinkgoWriter, "%s: kill to recovery %v (%d connections)\n", name, rec, killed)
		AddReportEntry(name+" under load: kill to recovery", rec)
		h.verify(name)
	}

	It("stays fresh and recovers when the invalidation connection is killed under load", func() {
		killUnderLoad("CLIENT KILL of the invalidation connection", func(c map[string]string, listener string) bool {
			return c["id"] == listener
		})
	})

	It("stays fresh and recovers when the tracked data connections are killed under load", func() {
		killUnderLoad("CLIENT KILL of the data connections", func(c map[string]string, listener string) bool {
			return c["redir"] == listener
		})
	})

	It("drops everything on FLUSHALL under load and serves the writes made after it", func() {
		h.allowNotFound = true
		lctx, cancel := context.WithTimeout(ctx, loadFor+2*time.Second)
		defer cancel()
		wait := h.load(lctx, 6, 2, 2, 1_000_000)
		Eventually(h.reads.Load).WithTimeout(5 * time.Second).Should(BeNumerically(">", 500))
		_, err := h.srv.Do("FLUSHALL")
		Expect(err).NotTo(HaveOccurred())
		start := time.Now()
		for i, k := range h.keys {
			acked := h.acked[i].Load()
			Eventually(func() (int64, error) { return clientcache.GetValue[int64](ctx, h.sc, k) }).
				WithTimeout(recoveryTimeout).WithPolling(time.Millisecond).Should(BeNumerically(">", acked), k)
		}
		Eventually(h.recovered(ctx)).WithTimeout(recoveryTimeout).WithPolling(time.Millisecond).Should(BeTrue())
		rec := time.Since(start)
		wait()
		fmt.Fprintf(GinkgoWriter, "FLUSHALL under load: flush to recovery %v\n", rec)
		AddReportEntry("FLUSHALL under load: flush to recovery", rec)
		h.verify("flushall")
	})
})
