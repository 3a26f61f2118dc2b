package tests

import (
	"context"
	"fmt"
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
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
	"github.com/rediscache/rediscache/tests/redistest"
)

// oomStore refuses every write as Redis at maxmemory does.
type oomStore struct{ ports.Store }

func (oomStore) Set(context.Context, string, []byte, time.Duration) error {
	return fmt.Errorf("OOM command not allowed when used memory > 'maxmemory': %w", domain.ErrRefused)
}

var _ = Describe("Cache telemetry on standalone", Label("redis", "standalone", "otel"), func() {
	var (
		ctx   context.Context
		store *standalone.Store
		exp   *tracetest.InMemoryExporter
		tp    *sdktrace.TracerProvider
	)
	BeforeEach(func() {
		ctx = context.Background()
		srv := redistest.StartServer(GinkgoT())
		var err error
		store, err = standalone.New(standalone.Config{Addr: srv.Addr()})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(store.Close)
		exp = tracetest.NewInMemoryExporter()
		tp = sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
		DeferCleanup(tp.Shutdown, context.Background())
	})
	spanAttrs := func(s tracetest.SpanStub) map[attribute.Key]attribute.Value {
		m := map[attribute.Key]attribute.Value{}
		for _, kv := range s.Attributes {
			m[kv.Key] = kv.Value
		}
		return m
	}

	It("traces each operation as a child of the caller's span, with the hit and no key text by default", func() {
		cache, err := app.New(store, app.Config{Site: "s"}, app.WithTelemetry(app.Telemetry{TracerProvider: tp}))
		Expect(err).NotTo(HaveOccurred())
		pctx, parent := tp.Tracer("test").Start(ctx, "request")
		Expect(cache.SetValue(pctx, "secret-key", "secret-value")).To(Succeed())
		Expect(app.GetValue[string](pctx, cache, "secret-key")).To(Equal("secret-value"))
		_, err = cache.GetRaw(pctx, "secret-absent")
		Expect(err).To(MatchError(domain.ErrNotFound))
		Expect(cache.HSet(pctx, "secret-hash", "f", 1)).To(Succeed())
		Expect(cache.DeleteKeys(pctx, "secret")).To(BeNumerically("==", 2))
		parent.End()

		var ops []string
		for _, s := range exp.GetSpans() {
			if s.Name == "request" {
				continue
			}
			Expect(s.Parent.SpanID()).To(Equal(parent.SpanContext().SpanID()), s.Name)
			a := spanAttrs(s)
			Expect(a["rediscache.site"].AsString()).To(Equal("s"))
			Expect(a).NotTo(HaveKey(attribute.Key("rediscache.key")))
			for _, kv := range s.Attributes {
				Expect(kv.Value.Emit()).NotTo(ContainSubstring("secret"), "%s: %s", s.Name, kv.Key)
			}
			name := s.Name
			if v, ok := a["rediscache.hit"]; ok {
				name += fmt.Sprintf("(hit=%v)", v.AsBool())
			}
			ops = append(ops, name)
		}
		Expect(strings.Join(ops, " ")).To(Equal("rediscache.SetValue rediscache.GetRaw(hit=true) " +
			"rediscache.GetRaw(hit=false) rediscache.HSet rediscache.DeleteKeys"))
	})

	It("puts the key in spans with KeyAttributes, and a request-local hit only with HitSpans", func() {
		cache, err := app.New(store, app.Config{Site: "s"},
			app.WithTelemetry(app.Telemetry{TracerProvider: tp, KeyAttributes: true}))
		Expect(err).NotTo(HaveOccurred())
		rctx := app.WithRequestCache(ctx)
		Expect(cache.SetValue(rctx, "k1", 1)).To(Succeed())
		Expect(app.GetValue[int](rctx, cache, "k1")).To(Equal(1)) // request-local: no span
		spans := exp.GetSpans()
		Expect(spans).To(HaveLen(1))
		Expect(spanAttrs(spans[0])["rediscache.key"].AsString()).To(Equal("k1"))
	})

	It("counts generator runs and the values served while the backend refused them", func() {
		r := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
		DeferCleanup(mp.Shutdown, context.Background())
		tel := app.Telemetry{MeterProvider: mp}
		ok, err := app.New(store, app.Config{Site: "ok"}, app.WithTelemetry(tel))
		Expect(err).NotTo(HaveOccurred())
		full, err := app.New(oomStore{store}, app.Config{Site: "full"}, app.WithTelemetry(tel))
		Expect(err).NotTo(HaveOccurred())
		gen := func(context.Context) (int, error) { return 7, nil }
		for range 3 {
			Expect(app.GetOrGenerate(ctx, ok, "k", gen)).To(Equal(7))
			Expect(app.GetOrGenerate(ctx, full, "k", gen)).To(Equal(7))
		}
		var rm metricdata.ResourceMetrics
		Expect(r.Collect(ctx, &rm)).To(Succeed())
		got := map[string]int64{}
		for _, sm := range rm.ScopeMetrics {
			for _, m := range sm.Metrics {
				for _, dp := range m.Data.(metricdata.Sum[int64]).DataPoints {
					site, _ := dp.Attributes.Value("site")
					got[m.Name+"{"+site.Emit()+"}"] = dp.Value
				}
			}
		}
		Expect(got).To(Equal(map[string]int64{
			"rediscache.cache.generator.runs{ok}":              1,
			"rediscache.cache.generator.runs{full}":            3,
			"rediscache.cache.generator.served_unstored{full}": 3,
		}))
	})
})
