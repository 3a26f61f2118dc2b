package app_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/rediscache/rediscache/adapters/memory"
	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// refusing is a store that refuses every write, as Redis at maxmemory.
type refusing struct{ ports.Store }

func (refusing) Set(context.Context, string, []byte, time.Duration) error {
	return fmt.Errorf("OOM command not allowed: %w", domain.ErrRefused)
}

func newTracer(t *testing.T) (*sdktrace.TracerProvider, *tracetest.InMemoryExporter) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	return tp, exp
}

func attrs(s tracetest.SpanStub) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes {
		m[kv.Key] = kv.Value
	}
	return m
}

func TestWithTelemetrySpans(t *testing.T) {
	ctx := context.Background()
	tp, exp := newTracer(t)
	cache, err := app.New(memory.New(memory.Config{}), app.Config{Site: "s1"},
		app.WithTelemetry(app.Telemetry{TracerProvider: tp}))
	if err != nil {
		t.Fatal(err)
	}
	pctx, parent := tp.Tracer("test").Start(ctx, "request")
	if err := cache.SetValue(pctx, "secret-key", "secret-value"); err != nil {
		t.Fatal(err)
	}
	if _, err := cache.GetRaw(pctx, "secret-key"); err != nil {
		t.Fatal(err)
	}
	if _, err := cache.GetRaw(pctx, "absent"); err == nil {
		t.Fatal("absent key found")
	}
	if _, err := cache.LPush(pctx, "l", "a"); err != nil {
		t.Fatal(err)
	}
	parent.End()

	got := exp.GetSpans()
	var names []string
	for _, s := range got {
		names = append(names, s.Name)
	}
	want := "rediscache.SetValue rediscache.GetRaw rediscache.GetRaw rediscache.LPush request"
	if strings.Join(names, " ") != want {
		t.Fatalf("spans %v, want %s", names, want)
	}
	for i, s := range got[:4] {
		if s.Parent.SpanID() != parent.SpanContext().SpanID() {
			t.Errorf("%s: not a child of the request span", s.Name)
		}
		a := attrs(s)
		if a["rediscache.site"].AsString() != "s1" {
			t.Errorf("%s: site %v", s.Name, a["rediscache.site"])
		}
		if _, ok := a["rediscache.key"]; ok {
			t.Errorf("%s: key attribute without KeyAttributes", s.Name)
		}
		for _, kv := range s.Attributes {
			if v := kv.Value.Emit(); strings.Contains(v, "secret") {
				t.Errorf("%s: attribute %s holds key or value text %q", s.Name, kv.Key, v)
			}
		}
		if s.Status.Code.String() == "Error" {
			t.Errorf("%s: error status", s.Name)
		}
		if i == 1 || i == 2 {
			if hit := a["rediscache.hit"].AsBool(); hit != (i == 1) {
				t.Errorf("%s #%d: hit %v", s.Name, i, hit)
			}
		}
	}
}

func TestWithTelemetryKeyAttributesAndHitSpans(t *testing.T) {
	tp, exp := newTracer(t)
	cache, _ := app.New(memory.New(memory.Config{}), app.Config{Site: "s1"},
		app.WithTelemetry(app.Telemetry{TracerProvider: tp, KeyAttributes: true}))
	ctx := app.WithRequestCache(context.Background())
	_ = cache.SetValue(ctx, "k", 1)
	_, _ = cache.GetRaw(ctx, "k") // request-local hit: no span
	spans := exp.GetSpans()
	if len(spans) != 1 || attrs(spans[0])["rediscache.key"].AsString() != "k" {
		t.Fatalf("spans %v: want one SetValue span with rediscache.key=k", spans)
	}

	exp.Reset()
	hits, _ := app.New(memory.New(memory.Config{}), app.Config{Site: "s1"},
		app.WithTelemetry(app.Telemetry{TracerProvider: tp, HitSpans: true}))
	ctx = app.WithRequestCache(context.Background())
	_ = hits.SetValue(ctx, "k", 1)
	_, _ = hits.GetRaw(ctx, "k")
	spans = exp.GetSpans()
	if len(spans) != 2 || spans[1].Name != "rediscache.GetRaw" || !attrs(spans[1])["rediscache.hit"].AsBool() {
		t.Fatalf("spans %v: want a hit span with HitSpans", spans)
	}
}

func TestWithTelemetryErrorSpan(t *testing.T) {
	tp, exp := newTracer(t)
	cache, _ := app.New(refusing{memory.New(memory.Config{})}, app.Config{Site: "s1"},
		app.WithTelemetry(app.Telemetry{TracerProvider: tp}))
	if err := cache.SetValue(context.Background(), "k", 1); err == nil {
		t.Fatal("refused write succeeded")
	}
	s := exp.GetSpans()[0]
	if s.Status.Code.String() != "Error" || attrs(s)["error.type"].AsString() != domain.ErrorType(domain.ErrRefused) {
		t.Fatalf("span %s: status %v, attributes %v", s.Name, s.Status, s.Attributes)
	}
	if strings.Contains(s.Status.Description, "OOM") {
		t.Errorf("error text %q in the span without KeyAttributes", s.Status.Description)
	}
}

func sums(t *testing.T, r *sdkmetric.ManualReader) map[string]int64 {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	p := map[string]int64{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if d, ok := m.Data.(metricdata.Sum[int64]); ok {
				for _, dp := range d.DataPoints {
					site, _ := dp.Attributes.Value("site")
					p[m.Name+"{"+site.Emit()+"}"] = dp.Value
				}
			}
		}
	}
	return p
}

func TestWithTelemetryGeneratorCounters(t *testing.T) {
	ctx := context.Background()
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	defer func() { _ = mp.Shutdown(ctx) }()
	tel := app.Telemetry{MeterProvider: mp, SiteLimit: 1}
	gen := func(context.Context) ([]byte, error) { return []byte(`1`), nil }

	ok, _ := app.New(memory.New(memory.Config{}), app.Config{Site: "a"}, app.WithTelemetry(tel))
	full, _ := app.New(refusing{memory.New(memory.Config{})}, app.Config{Site: "b"}, app.WithTelemetry(tel))
	for range 2 {
		if _, err := ok.GetOrGenerateRaw(ctx, "k", gen); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if _, err := full.GetOrGenerateRaw(ctx, "k", gen); err != nil {
			t.Fatal(err) // served though the backend refused it
		}
	}
	p := sums(t, r)
	want := map[string]int64{
		"rediscache.cache.generator.runs{a}":                 1,
		"rediscache.cache.generator.runs{_other}":            3,
		"rediscache.cache.generator.served_unstored{_other}": 3,
	}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("%s = %d, want %d (all: %v)", k, p[k], v, p)
		}
	}
	if len(p) != len(want) {
		t.Errorf("points %v, want %v", p, want)
	}
}

func TestWithoutTelemetryCostsNothing(t *testing.T) {
	store := memory.New(memory.Config{})
	cache, _ := app.New(store, app.Config{Site: "s1"})
	direct := testing.AllocsPerRun(100, func() { _, _ = store.LLen(context.Background(), "s1|l") })
	allocs := testing.AllocsPerRun(100, func() { _, _ = cache.LLen(context.Background(), "l") })
	if allocs > direct+1 { // +1: building "s1|l"
		t.Errorf("LLen allocates %.0f times without telemetry, the store alone %.0f", allocs, direct)
	}
	traced, _ := app.New(store, app.Config{Site: "s1"}, app.WithTelemetry(app.Telemetry{}))
	tracedAllocs := testing.AllocsPerRun(100, func() { _, _ = traced.LLen(context.Background(), "l") })
	t.Logf("allocs per LLen: %.0f without telemetry, %.0f with the global no-op providers", allocs, tracedAllocs)
}

// Pipeline.Exec and the FT handle's operations are spans too; HDel, which
// runs a pipeline, is one span.
func TestWithTelemetryPipelineAndSearchSpans(t *testing.T) {
	ctx := context.Background()
	tp, exp := newTracer(t)
	store := memory.New(memory.Config{})
	t.Cleanup(func() { _ = store.DB().Close() })
	cache, err := app.New(store, app.Config{Site: "s1"}, app.WithTelemetry(app.Telemetry{TracerProvider: tp}))
	if err != nil {
		t.Fatal(err)
	}
	if err := cache.HSet(ctx, "h", "f", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := cache.HDel(ctx, "h", []string{"f"}); err != nil {
		t.Fatal(err)
	}
	p := cache.Pipeline()
	if err := p.HDel("h", []string{"g"}); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := cache.Pipeline().Exec(ctx); err != nil { // empty: nothing sent, no span
		t.Fatal(err)
	}
	ft := cache.FT("")
	if _, err := ft.SugAdd(ctx, "secret-dict", domain.Suggestion{String: "Zürich"}); err != nil {
		t.Fatal(err)
	}
	if _, err := ft.SugGet(ctx, "secret-dict", "zu", domain.SugGetOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := ft.SugDel(ctx, "secret-dict", "Zürich"); err != nil {
		t.Fatal(err)
	}
	if _, err := ft.SugLen(ctx, "secret-dict"); err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range exp.GetSpans() {
		names = append(names, s.Name)
		for _, kv := range s.Attributes {
			if strings.Contains(kv.Value.Emit(), "secret") {
				t.Errorf("%s: attribute %s = %q holds the key", s.Name, kv.Key, kv.Value.Emit())
			}
		}
	}
	want := "rediscache.HSet,rediscache.HDel,rediscache.Pipeline.Exec,rediscache.FT.SugAdd,rediscache.FT.SugGet,rediscache.FT.SugDel,rediscache.FT.SugLen"
	if got := strings.Join(names, ","); got != want {
		t.Errorf("spans %s\nwant  %s", got, want)
	}
}
