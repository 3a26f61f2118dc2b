package tests

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/rediscache/rediscache/adapters/standalone"
	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/app/clientcache"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/tests/redistest"
)

// otelPoints collects every point of r, by "name{attributes}" (the name
// without clientcache.MetricPrefix).
func otelPoints(r *sdkmetric.ManualReader) map[string]int64 {
	GinkgoHelper()
	var rm metricdata.ResourceMetrics
	Expect(r.Collect(context.Background(), &rm)).To(Succeed())
	p := map[string]int64{}
	enc := attribute.DefaultEncoder()
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			name := strings.TrimPrefix(m.Name, clientcache.MetricPrefix)
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				Expect(d.IsMonotonic).To(BeTrue(), m.Name)
				for _, dp := range d.DataPoints {
					p[name+"{"+dp.Attributes.Encoded(enc)+"}"] = dp.Value
				}
			case metricdata.Gauge[int64]:
				for _, dp := range d.DataPoints {
					p[name+"{"+dp.Attributes.Encoded(enc)+"}"] = dp.Value
				}
			}
		}
	}
	return p
}

var _ = Describe("ClientCache telemetry on standalone", Label("redis", "standalone", "clientcache", "otel"), func() {
	var (
		ctx   context.Context
		srv   *redistest.Server
		store *standalone.Store
		peer  *app.Cache // another process's client of the same data
	)
	BeforeEach(func() {
		ctx = context.Background()
		srv = redistest.StartServer(GinkgoT())
		var err error
		store, err = standalone.New(standalone.Config{Addr: srv.Addr()})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(store.Close)
		other, err := standalone.New(standalone.Config{Addr: srv.Addr()})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(other.Close)
		peer, err = app.New(other, app.Config{Site: "s"})
		Expect(err).NotTo(HaveOccurred())
	})
	start := func(cfg clientcache.Config, tel app.Telemetry) (*clientcache.ClientCache, *clientcache.Site) {
		GinkgoHelper()
		cc, err := clientcache.New(store, cfg, clientcache.WithTelemetry(tel))
		Expect(err).NotTo(HaveOccurred())
		Expect(cc.Start(ctx)).To(Succeed())
		DeferCleanup(cc.Stop)
		site, err := cc.Site("s")
		Expect(err).NotTo(HaveOccurred())
		return cc, site
	}
	get := func(site *clientcache.Site, key string) int {
		GinkgoHelper()
		v, err := clientcache.GetValue[int](ctx, site, key)
		Expect(err).NotTo(HaveOccurred())
		return v
	}

	It("counts hits, misses, invalidations, flushes by reason and evictions exactly", func() {
		r := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
		DeferCleanup(mp.Shutdown)
		cc, site := start(clientcache.Config{MaxEntries: 8}, app.Telemetry{MeterProvider: mp})
		var prev map[string]int64
		// expect checks the increase of the counters since the last
		// call (absent: 0) and the gauges' values.
		expect := func(what string, want map[string]int64) {
			GinkgoHelper()
			p := otelPoints(r)
			for k, v := range want {
				if strings.HasPrefix(k, "entries{") || strings.HasPrefix(k, "healthy{") || strings.HasPrefix(k, "tracking.sessions{") {
					Expect(p[k]).To(Equal(v), "%s: %s", what, k)
					continue
				}
				Expect(p[k]-prev[k]).To(Equal(v), "%s: %s", what, k)
			}
			for k, v := range p {
				if _, ok := want[k]; !ok && !strings.HasPrefix(k, "bytes") {
					Expect(v-prev[k]).To(BeZero(), "%s: %s moved", what, k)
				}
			}
			prev = p
		}
		prev = map[string]int64{}
		expect("started", map[string]int64{"entries{}": 0, "healthy{}": 1, "tracking.sessions{}": 1})

		By("hits and misses")
		for i := range 5 {
			Expect(peer.SetValue(ctx, fmt.Sprint("k", i), i)).To(Succeed())
		}
		for range 2 {
			for i := range 5 {
				Expect(get(site, fmt.Sprint("k", i))).To(Equal(i))
			}
		}
		expect("hits and misses", map[string]int64{"misses{site=s}": 5, "hits{site=s}": 5, "entries{}": 5})

		By("another client's writes")
		Expect(peer.SetValue(ctx, "k0", 10)).To(Succeed())
		Expect(peer.SetValue(ctx, "k1", 11)).To(Succeed())
		Eventually(func() int64 { return otelPoints(r)["invalidated{}"] - prev["invalidated{}"] }).
			WithTimeout(5 * time.Second).WithPolling(time.Millisecond).Should(Equal(int64(2)))
		expect("invalidations", map[string]int64{"invalidations{}": 2, "invalidated{}": 2, "entries{}": 3})

		By("FLUSHALL")
		_, err := srv.Do("FLUSHALL")
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() int64 { return otelPoints(r)["flushes{reason=flushall}"] - prev["flushes{reason=flushall}"] }).
			WithTimeout(5 * time.Second).WithPolling(time.Millisecond).Should(Equal(int64(1)))
		expect("FLUSHALL", map[string]int64{"flushes{reason=flushall}": 1, "flushed{reason=flushall}": 3, "entries{}": 0})

		By("a CLIENT KILL of the invalidation connection")
		for i := range 3 {
			Expect(peer.SetValue(ctx, fmt.Sprint("k", i), i)).To(Succeed())
			Expect(get(site, fmt.Sprint("k", i))).To(Equal(i))
		}
		expect("refilled", map[string]int64{"misses{site=s}": 3, "entries{}": 3})
		session := store.TrackingID()
		_, err = srv.Do("CLIENT", "KILL", "ID", strconv.FormatInt(session, 10))
		Expect(err).NotTo(HaveOccurred())
		Eventually(func() int64 { return otelPoints(r)["flushed{reason=connection_lost}"] }).
			WithTimeout(5 * time.Second).WithPolling(time.Millisecond).Should(Equal(int64(3)))
		Eventually(func() int64 { return otelPoints(r)["healthy{}"] }).
			WithTimeout(5 * time.Second).WithPolling(time.Millisecond).Should(Equal(int64(1)))
		Expect(store.TrackingID()).NotTo(Equal(session))
		expect("connection lost", map[string]int64{"flushes{reason=connection_lost}": 1,
			"flushed{reason=connection_lost}": 3, "entries{}": 0, "healthy{}": 1, "tracking.sessions{}": 1})

		By("evictions")
		const n = 40
		for i := range n {
			Expect(peer.SetValue(ctx, fmt.Sprint("e", i), i)).To(Succeed())
			Expect(get(site, fmt.Sprint("e", i))).To(Equal(i))
		}
		p := otelPoints(r)
		held := p["entries{}"]
		Expect(held).To(BeNumerically("<=", 8))
		// Every value fetched is held, evicted or not admitted.
		evicted := p["evictions{cause=entries}"] - prev["evictions{cause=entries}"]
		refused := p["evictions{cause=not_admitted}"] - prev["evictions{cause=not_admitted}"]
		Expect(held + evicted + refused).To(Equal(int64(n)))
		Expect(evicted + refused).To(BeNumerically(">=", n-8))
		expect("evictions", map[string]int64{"misses{site=s}": n, "entries{}": held,
			"evictions{cause=entries}": evicted, "evictions{cause=not_admitted}": refused})

		By("Statistics agrees")
		st := cc.Statistics()
		Expect(int64(st.Hits)).To(Equal(p["hits{site=s}"]))
		Expect(int64(st.Misses)).To(Equal(p["misses{site=s}"]))
		Expect(int64(st.Invalidations)).To(Equal(p["invalidated{}"]))
		Expect(int64(st.Dropped)).To(Equal(p["flushed{reason=flushall}"] + p["flushed{reason=connection_lost}"]))
		Expect(int64(st.EvictionsSize)).To(Equal(p["evictions{cause=entries}"]))
		Expect(int64(st.NotAdmitted)).To(Equal(p["evictions{cause=not_admitted}"]))

		By("Stop")
		Expect(cc.Stop(ctx)).To(Succeed())
		expect("stopped", map[string]int64{"flushes{reason=stop}": 1, "flushed{reason=stop}": held,
			// The store stops tracking when its last cache leaves.
			"entries{}": 0, "healthy{}": 0, "tracking.sessions{}": 0})
	})

	It("traces backend operations as children of the caller's span, hits only with HitSpans, no key or value text", func() {
		exp := tracetest.NewInMemoryExporter()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
		DeferCleanup(tp.Shutdown)

		// spans returns the spans of ours whose parent is parent: name,
		// then "(hit)" if it was a hit, "(error)" if it failed.
		spans := func(parent sdktrace.ReadOnlySpan) []string {
			GinkgoHelper()
			var out []string
			for _, sp := range exp.GetSpans() {
				attrs := sp.Attributes
				for _, ev := range sp.Events {
					attrs = append(attrs, ev.Attributes...)
				}
				for _, a := range attrs {
					Expect(a.Value.Emit()).NotTo(ContainSubstring("secret"), "%s: attribute %s", sp.Name, a.Key)
				}
				Expect(sp.Status.Description).NotTo(ContainSubstring("secret"), sp.Name)
				if sp.Parent.SpanID() != parent.SpanContext().SpanID() || sp.Name == "parent" {
					continue
				}
				set := attribute.NewSet(sp.Attributes...)
				sys, _ := set.Value("db.system.name")
				s, _ := set.Value("rediscache.site")
				Expect(sys.AsString()).To(Equal("redis"), sp.Name)
				Expect(s.AsString()).To(Equal("s"), sp.Name)
				name := sp.Name
				hit, ok := set.Value("rediscache.hit")
				Expect(ok).To(BeTrue(), "%s has no rediscache.hit", sp.Name)
				if hit.AsBool() {
					name += "(hit)"
				}
				if sp.Status.Code != 0 {
					name += "(error)"
				}
				out = append(out, name)
			}
			return out
		}
		run := func(tel app.Telemetry) []string {
			GinkgoHelper()
			Expect(peer.SetValue(ctx, "secret-key", "secret-value")).To(Succeed())
			exp.Reset()
			tel.TracerProvider = tp
			_, site := start(clientcache.Config{}, tel)
			pctx, parent := tp.Tracer("test").Start(ctx, "parent")
			for range 2 {
				v, err := clientcache.GetValue[string](pctx, site, "secret-key")
				Expect(err).NotTo(HaveOccurred())
				Expect(v).To(Equal("secret-value"))
			}
			_, err := clientcache.GetValue[string](pctx, site, "secret-absent")
			Expect(err).To(MatchError(domain.ErrNotFound))
			Expect(site.SetValue(pctx, "secret-key", "secret-value-2")).To(Succeed())
			_, err = clientcache.GetOrGenerate(pctx, site, "secret-gen", func(context.Context) (string, error) {
				return "", errors.New("secret-failure")
			})
			Expect(err).To(HaveOccurred())
			parent.End()
			var ro sdktrace.ReadOnlySpan
			for _, sp := range exp.GetSpans().Snapshots() {
				if sp.Name() == "parent" {
					ro = sp
				}
			}
			Expect(ro).NotTo(BeNil())
			return spans(ro)
		}

		Expect(run(app.Telemetry{})).To(Equal([]string{"rediscache.GetValue", "rediscache.GetValue",
			"rediscache.SetValue", "rediscache.GetOrGenerate(error)"}), "a local hit is not traced by default")
		Expect(run(app.Telemetry{HitSpans: true})).To(Equal([]string{"rediscache.GetValue", "rediscache.GetValue(hit)",
			"rediscache.GetValue", "rediscache.SetValue", "rediscache.GetOrGenerate(error)"}))
	})
})
