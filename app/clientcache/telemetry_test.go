package clientcache

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/domain"
)

// points are the values of one collection, by "name{attributes}" (the name
// without MetricPrefix, the attributes as attribute.Set encodes them).
type points map[string]int64

// newReader returns a meter provider and its manual reader.
func newReader(t testing.TB) (*sdkmetric.MeterProvider, *sdkmetric.ManualReader) {
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	return mp, r
}

// collect reads every point of r, checking that counters are cumulative
// monotonic sums.
func collect(t testing.TB, r *sdkmetric.ManualReader) points {
	t.Helper()
	var rm metricdata.ResourceMetrics
	check(t, r.Collect(context.Background(), &rm))
	p := points{}
	enc := attribute.DefaultEncoder()
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			name := strings.TrimPrefix(m.Name, MetricPrefix)
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				if !d.IsMonotonic || d.Temporality != metricdata.CumulativeTemporality {
					t.Errorf("%s: not a cumulative monotonic sum", m.Name)
				}
				for _, dp := range d.DataPoints {
					p[name+"{"+dp.Attributes.Encoded(enc)+"}"] = dp.Value
				}
			case metricdata.Gauge[int64]:
				for _, dp := range d.DataPoints {
					p[name+"{"+dp.Attributes.Encoded(enc)+"}"] = dp.Value
				}
			default:
				t.Errorf("%s: unexpected data %T", m.Name, m.Data)
			}
		}
	}
	return p
}

// sum adds the points of the metric name, over every attribute set.
func (p points) sum(name string) int64 {
	var n int64
	for k, v := range p {
		if strings.HasPrefix(k, name+"{") {
			n += v
		}
	}
	return n
}

// minus returns p - q for the counters (sums) of p.
func (p points) minus(q points) points {
	d := points{}
	for k, v := range p {
		d[k] = v - q[k]
	}
	return d
}

// asStatistics maps the counters of p onto the counters of Statistics.
func (p points) asStatistics() map[string]int64 {
	return map[string]int64{
		"Hits":            p.sum("hits"),
		"Misses":          p.sum("misses"),
		"Invalidations":   p.sum("invalidated"),
		"Dropped":         p.sum("flushed"),
		"Evictions":       p["evictions{cause=entries}"] + p["evictions{cause=bytes}"],
		"EvictionsSize":   p["evictions{cause=entries}"],
		"EvictionsBytes":  p["evictions{cause=bytes}"],
		"NotAdmitted":     p["evictions{cause=not_admitted}"],
		"ExpiredLocalTTL": p["expirations{cause=local_ttl}"],
		"ExpiredKeyTTL":   p["expirations{cause=key_ttl}"],
		"Rejected":        p.sum("rejected"),
		"Raced":           p.sum("fetches.discarded"),
	}
}

func statisticsCounters(st domain.Statistics) map[string]int64 {
	return map[string]int64{
		"Hits": int64(st.Hits), "Misses": int64(st.Misses), "Invalidations": int64(st.Invalidations),
		"Dropped": int64(st.Dropped), "Evictions": int64(st.Evictions), "EvictionsSize": int64(st.EvictionsSize),
		"EvictionsBytes": int64(st.EvictionsBytes), "NotAdmitted": int64(st.NotAdmitted),
		"ExpiredLocalTTL": int64(st.ExpiredLocalTTL), "ExpiredKeyTTL": int64(st.ExpiredKeyTTL),
		"Rejected": int64(st.Rejected), "Raced": int64(st.Raced),
	}
}

func agree(t *testing.T, when string, st domain.Statistics, p points) {
	t.Helper()
	want := statisticsCounters(st)
	for name, got := range p.asStatistics() {
		if want[name] != got {
			t.Errorf("%s: Statistics.%s = %d, metrics say %d", when, name, want[name], got)
		}
	}
}

// The metrics count what Statistics counts; ResetStatistics zeroes
// Statistics but not the metrics (they stay monotonic), and afterwards the
// metrics' increase equals Statistics.
func TestMetricsAgreeWithStatistics(t *testing.T) {
	mp, r := newReader(t)
	c := moveEveryCounter(t, WithTelemetry(app.Telemetry{MeterProvider: mp}))
	p1 := collect(t, r)
	st := c.Statistics()
	agree(t, "before ResetStatistics", st, p1)
	for k, want := range map[string]int64{
		"entries{}": int64(st.Used), "bytes{}": st.Bytes, "bytes.limit{}": 400, "healthy{}": 1,
		"tracking.sessions{}": 1, "hits{site=s}": int64(st.Hits), "negative": 0,
		"flushes{reason=connection_lost}": 1, "flushes{reason=clear}": 1, "flushes{reason=stop}": 0,
		"generator.runs{site=s}": 0,
	} {
		if k != "negative" && p1[k] != want {
			t.Errorf("%s = %d, want %d", k, p1[k], want)
		}
	}
	if p1.sum("invalidations") < p1.sum("invalidated") || p1.sum("invalidated") == 0 {
		t.Errorf("invalidations %d (keys) < invalidated %d (entries)", p1.sum("invalidations"), p1.sum("invalidated"))
	}

	c.ResetStatistics()
	p2 := collect(t, r)
	for k, v := range p1 {
		if p2[k] < v {
			t.Errorf("%s went back from %d to %d at ResetStatistics", k, v, p2[k])
		}
	}
	agree(t, "after ResetStatistics", c.Statistics(), p2.minus(p2))

	ctx := t.Context()
	s, err := c.Site("s")
	check(t, err)
	check(t, s.SetValue(ctx, "a", "again"))
	mustGet(t, s, "a", "again")
	mustGet(t, s, "a", "again")
	mustMiss(t, s, "nothing")
	if _, err := GetOrGenerate(ctx, s, "gen", func(context.Context) (string, error) { return "g", nil }); err != nil {
		t.Fatal(err)
	}
	c.ClearCache()
	p3 := collect(t, r)
	agree(t, "since ResetStatistics", c.Statistics(), p3.minus(p2))
	if d := p3.minus(p2); d["generator.runs{site=s}"] != 1 || d["flushes{reason=clear}"] != 1 || d["hits{site=s}"] != 2 {
		t.Errorf("since ResetStatistics: %v", d)
	}

	check(t, c.Stop(ctx))
	p4 := collect(t, r)
	if p4["flushes{reason=stop}"] != 1 || p4["healthy{}"] != 0 {
		t.Errorf("after Stop: flushes{stop} %d, healthy %d", p4["flushes{reason=stop}"], p4["healthy{}"])
	}
}

// The site attribute names the first SiteLimit sites seen, the others
// are summed as OtherSite; a negative SiteLimit leaves it out.
func TestMetricsSiteLimit(t *testing.T) {
	for _, tc := range []struct {
		limit int
		want  points
	}{
		{2, points{"hits{site=a}": 1, "hits{site=b}": 1, "hits{site=_other}": 2,
			"misses{site=a}": 1, "misses{site=_other}": 2}},
		{-1, points{"hits{}": 4, "misses{}": 4}},
		{0, points{"hits{site=a}": 1, "hits{site=d}": 1}},
	} {
		mp, r := newReader(t)
		f, _ := newFakeStore(t)
		c, _ := newCache(t, f, Config{}, WithTelemetry(app.Telemetry{MeterProvider: mp, SiteLimit: tc.limit}))
		for _, name := range []string{"a", "b", "c", "d"} {
			s, err := c.Site(name)
			check(t, err)
			mustMiss(t, s, "k")
			mustMiss(t, s, "k")
		}
		p := collect(t, r)
		for k, want := range tc.want {
			if p[k] != want {
				t.Errorf("SiteLimit %d: %s = %d, want %d (%v)", tc.limit, k, p[k], want, p)
			}
		}
		if tc.limit == 2 && p["hits{site=c}"] != 0 {
			t.Errorf("SiteLimit 2: site c reported by name")
		}
	}
}

// A ClientCache nobody refers to any more is collected, and its callback
// leaves the meter provider.
func TestMetricsCallbackLeavesWithTheCache(t *testing.T) {
	mp, r := newReader(t)
	f, _ := newFakeStore(t)
	func() {
		c, err := New(f, Config{}, WithTelemetry(app.Telemetry{MeterProvider: mp}))
		check(t, err)
		_, err = c.Site("x")
		check(t, err)
	}()
	if p := collect(t, r); len(p) == 0 {
		// Possible only if the GC already ran: nothing to check.
		t.Log("collected before the first collection")
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(collect(t, r)) > 0 {
		if time.Now().After(deadline) {
			t.Fatal("the callback of a discarded ClientCache is still registered")
		}
		runtime.GC()
		time.Sleep(time.Millisecond) // the cleanup runs on its own goroutine: nothing to await
	}
}

// Spans: one per backend operation, a child of the caller's; none for a
// local hit unless HitSpans; no key text unless KeyAttributes.
func TestSpans(t *testing.T) {
	for _, tc := range []struct {
		name           string
		tel            app.Telemetry
		hitSpan, keyed bool
	}{
		{"default", app.Telemetry{}, false, false},
		{"HitSpans", app.Telemetry{HitSpans: true}, true, false},
		{"KeyAttributes", app.Telemetry{KeyAttributes: true}, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			exp := tracetest.NewInMemoryExporter()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
			t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
			tc.tel.TracerProvider = tp
			f, peer := newFakeStore(t)
			_, s := newCache(t, f, Config{}, WithTelemetry(tc.tel))
			check(t, peer.Set(t.Context(), "s|secret-key", []byte(`"secret-value"`), 0))
			ctx, parent := tp.Tracer("test").Start(t.Context(), "parent")
			mustGet(t, s, "secret-key", "secret-value")   // miss
			mustGet(t, s, "secret-key", "secret-value")   // hit
			_, err := GetValue[int](ctx, s, "secret-key") // a hit that fails to decode
			if err == nil {
				t.Fatal("decoding a string as an int worked")
			}
			_, err = GetValue[string](ctx, s, "absent") // a miss, no error
			if !errors.Is(err, domain.ErrNotFound) {
				t.Fatal(err)
			}
			check(t, s.DeleteValue(ctx, "secret-key"))
			parent.End()

			var ops []string
			for _, sp := range exp.GetSpans() {
				if sp.Name == "parent" || sp.Parent.IsValid() && sp.Parent.SpanID() != parent.SpanContext().SpanID() {
					continue // the test's, or a child of ours (the site's app.Cache)
				}
				attrs := map[string]attribute.Value{}
				for _, a := range sp.Attributes {
					attrs[string(a.Key)] = a.Value
					if !tc.keyed && strings.Contains(a.Value.Emit(), "secret") {
						t.Errorf("%s: attribute %s holds key or value text: %q", sp.Name, a.Key, a.Value.Emit())
					}
				}
				if v := attrs["rediscache.key"]; tc.keyed != (v.AsString() == "secret-key" || v.AsString() == "absent") {
					t.Errorf("%s: rediscache.key = %q", sp.Name, v.Emit())
				}
				if attrs["db.system.name"].AsString() != "redis" || attrs["rediscache.site"].AsString() != "s" {
					t.Errorf("%s: attributes %v", sp.Name, sp.Attributes)
				}
				name := strings.TrimPrefix(sp.Name, "rediscache.")
				if attrs["rediscache.hit"].AsBool() {
					name += "(hit)"
				}
				if sp.Status.Code != 0 {
					name += "(error)"
				}
				if sp.Parent.SpanID() != parent.SpanContext().SpanID() {
					name += "(orphan)"
				}
				ops = append(ops, name)
			}
			// mustGet reads with context.Background: the first
			// spans are roots.
			want := "GetValue(orphan) GetValue DeleteValue"
			if tc.hitSpan {
				want = "GetValue(orphan) GetValue(hit)(orphan) GetValue(hit) GetValue DeleteValue"
			}
			if got := strings.Join(ops, " "); got != want {
				t.Errorf("spans: %s; want %s", got, want)
			}
		})
	}
}

// refusingStore refuses every Set, as a Redis at maxmemory does.
type refusingStore struct{ *fakeStore }

func (refusingStore) Set(context.Context, string, []byte, time.Duration) error {
	return fmt.Errorf("%w: OOM command not allowed", domain.ErrRefused)
}

// A generator's runs are counted by site, and so are the values it served
// while the backend refused to store them.
func TestMetricsGenerator(t *testing.T) {
	mp, r := newReader(t)
	f, _ := newFakeStore(t)
	c, err := New(refusingStore{f}, Config{}, WithTelemetry(app.Telemetry{MeterProvider: mp}))
	check(t, err)
	check(t, c.Start(t.Context()))
	t.Cleanup(func() { _ = c.Stop(context.Background()) })
	s, err := c.Site("s")
	check(t, err)
	for range 2 {
		v, err := GetOrGenerate(t.Context(), s, "g", func(context.Context) (string, error) { return "made", nil })
		if err != nil || v != "made" {
			t.Fatalf("GetOrGenerate = %q, %v", v, err)
		}
	}
	p := collect(t, r)
	if p["generator.runs{site=s}"] != 2 || p["generator.served_unstored{site=s}"] != 2 || p["entries{}"] != 0 {
		t.Errorf("generator.runs %d, served_unstored %d, entries %d; want 2, 2, 0",
			p["generator.runs{site=s}"], p["generator.served_unstored{site=s}"], p["entries{}"])
	}
}

// Each operation of a Site, or of its Cache(), is one span: the Site's
// Cache traces what it does itself, not what the Site delegates to it.
func TestSpansOnePerOperation(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	f, _ := newFakeStore(t)
	_, s := newCache(t, f, Config{}, WithTelemetry(app.Telemetry{TracerProvider: tp}))
	ctx := t.Context()
	check(t, s.SetValue(ctx, "k", 1))
	check(t, s.DeleteValue(ctx, "k"))
	_, err := s.DeleteKeys(ctx, "k")
	check(t, err)
	check(t, s.Cache().SetValue(ctx, "k2", 1))
	for range 3 { // a miss, then local hits: not traced without HitSpans
		if _, err := app.GetValue[int](ctx, s.Cache(), "k2"); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	for _, sp := range exp.GetSpans() {
		names = append(names, sp.Name)
	}
	// The first read of k2 fetches it (one span); the next two are local hits.
	want := "rediscache.SetValue rediscache.DeleteValue rediscache.DeleteKeys rediscache.SetValue rediscache.GetRaw"
	if h := s.ClientCache().Statistics().Hits; h < 2 {
		t.Fatalf("%d local hits, want 2", h)
	}
	if strings.Join(names, " ") != want {
		t.Fatalf("spans %v, want %s", names, want)
	}
}
