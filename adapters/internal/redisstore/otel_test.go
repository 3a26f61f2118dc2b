package redisstore_test

import (
	"context"
	"errors"
	"net"
	"strconv"
	"testing"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/metric/noop"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"

	"github.com/rediscache/rediscache/adapters/internal/redisstore"
	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/tests/redistest"
)

// TestInstrumentationName keeps redisstore's copy of the instrumentation
// scope equal to app's (adapters may not import app).
func TestInstrumentationName(t *testing.T) {
	if redisstore.InstrumentationName != app.InstrumentationName {
		t.Fatalf("redisstore.InstrumentationName = %q, app.InstrumentationName = %q",
			redisstore.InstrumentationName, app.InstrumentationName)
	}
}

// measuredStore starts a server and returns a store on it reporting to a
// ManualReader.
func measuredStore(t *testing.T) (*redisstore.Store, *sdkmetric.ManualReader, *redistest.Server) {
	t.Helper()
	srv := redistest.StartServer(t)
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	t.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
	s := redisstore.New(redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: 2}),
		redisstore.WithEndpoint(srv.Addr()), redisstore.WithTelemetry(mp, nil, false))
	t.Cleanup(func() { _ = s.Close() })
	return s, r, srv
}

// durations collects the histogram: data points by db.operation.name and
// error.type ("op" or "op|type"). It checks the scope, unit and buckets.
func durations(t *testing.T, r *sdkmetric.ManualReader) map[string]metricdata.HistogramDataPoint[float64] {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := r.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	out := map[string]metricdata.HistogramDataPoint[float64]{}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "db.client.operation.duration" {
				t.Errorf("unexpected metric %q", m.Name)
				continue
			}
			if sm.Scope.Name != app.InstrumentationName {
				t.Errorf("scope = %q, want %q", sm.Scope.Name, app.InstrumentationName)
			}
			if m.Unit != "s" {
				t.Errorf("unit = %q, want s", m.Unit)
			}
			h, ok := m.Data.(metricdata.Histogram[float64])
			if !ok {
				t.Fatalf("data is %T, want a float64 histogram", m.Data)
			}
			for _, dp := range h.DataPoints {
				if want := []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10}; !equalFloats(dp.Bounds, want) {
					t.Errorf("bounds = %v, want %v", dp.Bounds, want)
				}
				op, _ := dp.Attributes.Value("db.operation.name")
				k := op.AsString()
				if et, ok := dp.Attributes.Value("error.type"); ok {
					k += "|" + et.AsString()
				}
				out[k] = dp
			}
		}
	}
	return out
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestOperationDuration(t *testing.T) {
	ctx := context.Background()
	s, r, srv := measuredStore(t)

	if err := s.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, "missing"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("Get(missing) = %v", err)
	}
	if _, err := s.LPush(ctx, "list", "a"); err != nil {
		t.Fatal(err)
	}
	_, wrongType := s.Get(ctx, "list")
	if !errors.Is(wrongType, domain.ErrWrongType) {
		t.Fatalf("Get(list) = %v", wrongType)
	}
	c := s.Client()
	if _, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Get(ctx, "k")
		p.Get(ctx, "missing")
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		t.Fatal(err)
	}
	if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Get(ctx, "k")
		p.Set(ctx, "k2", "v", 0)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Incr(ctx, "n")
		p.Incr(ctx, "n")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, _ = c.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Get(ctx, "k")
		p.Get(ctx, "list")
		return nil
	})

	got := durations(t, r)
	host, port, _ := net.SplitHostPort(srv.Addr())
	wantPort, _ := strconv.Atoi(port)
	for _, want := range []struct {
		key   string
		count uint64
	}{
		{"SET", 1},
		{"GET", 2}, // "missing" is a success: redis.Nil is a reply
		{"GET|" + domain.ErrorType(wrongType), 1},
		{"LPUSH", 1},
		{"BATCH GET", 1},
		{"BATCH", 1},      // GET and SET in MULTI/EXEC
		{"BATCH INCR", 1}, // MULTI and EXEC do not count
		{"BATCH GET|wrong_type", 1},
	} {
		dp, ok := got[want.key]
		if !ok {
			t.Errorf("no point %q; have %v", want.key, keys(got))
			continue
		}
		if dp.Count != want.count {
			t.Errorf("%s: count = %d, want %d", want.key, dp.Count, want.count)
		}
		if v, _ := dp.Attributes.Value("db.system.name"); v.AsString() != "redis" {
			t.Errorf("%s: db.system.name = %q", want.key, v.AsString())
		}
		if v, _ := dp.Attributes.Value("server.address"); v.AsString() != host {
			t.Errorf("%s: server.address = %q, want %q", want.key, v.AsString(), host)
		}
		if v, _ := dp.Attributes.Value("server.port"); v.AsInt64() != int64(wantPort) {
			t.Errorf("%s: server.port = %d, want %d", want.key, v.AsInt64(), wantPort)
		}
		if dp.Sum <= 0 || dp.Sum > 10 {
			t.Errorf("%s: sum = %v s", want.key, dp.Sum)
		}
		if n := dp.Attributes.Len(); n != 4 && n != 5 {
			t.Errorf("%s: attributes %v", want.key, dp.Attributes.ToSlice())
		}
	}
	if domain.ErrorType(wrongType) != "wrong_type" {
		t.Errorf("error.type of WRONGTYPE = %q", domain.ErrorType(wrongType))
	}
}

// TestOperationDurationUnreachable: a failed dial is recorded with the
// error type of the store's error.
func TestOperationDurationUnreachable(t *testing.T) {
	ctx := context.Background()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	s := redisstore.New(redis.NewClient(&redis.Options{Addr: addr, Protocol: 2, MaxRetries: -1}),
		redisstore.WithTelemetry(mp, nil, false))
	defer s.Close()
	_, getErr := s.Get(ctx, "k")
	if !errors.Is(getErr, domain.ErrUnavailable) {
		t.Fatalf("Get = %v", getErr)
	}
	got := durations(t, r)
	if _, ok := got["GET|"+domain.ErrorType(getErr)]; !ok {
		t.Errorf("no point GET|%s; have %v", domain.ErrorType(getErr), keys(got))
	}
}

// TestOperationDurationAllocs: recording a command costs no allocation once
// its attribute set is built.
func TestOperationDurationAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation count")
	}
	ctx := context.Background()
	s, _, srv := measuredStore(t)
	bare := redisstore.New(redis.NewClient(&redis.Options{Addr: srv.Addr(), Protocol: 2}),
		redisstore.WithTelemetry(noop.NewMeterProvider(), nil, false))
	defer bare.Close()
	if err := s.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	get := func(st *redisstore.Store) func() {
		return func() {
			if _, err := st.Get(ctx, "k"); err != nil {
				t.Fatal(err)
			}
		}
	}
	get(s)()
	get(bare)()
	measured := testing.AllocsPerRun(200, get(s))
	unmeasured := testing.AllocsPerRun(200, get(bare))
	t.Logf("allocations per GET: measured %v, unmeasured %v", measured, unmeasured)
	if measured > unmeasured {
		t.Errorf("a measured GET allocates %v times, an unmeasured one %v", measured, unmeasured)
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestOperationDurationTracked: a tracking store measures its tracked
// connections (Fetch, one batch) and the client Failover builds; the
// listener (Pub/Sub) and the handshakes are not measured.
func TestOperationDurationTracked(t *testing.T) {
	ctx := context.Background()
	r := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
	s, _ := newTracked(t, nil, redisstore.WithTelemetry(mp, nil, false))
	untrack, err := s.Track(ctx, &recorder{})
	if err != nil {
		t.Fatal(err)
	}
	defer untrack()
	if err := s.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fetch(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	got := durations(t, r)
	// CLIENT CACHING, MULTI, PTTL, GET, EXEC on the tracked connection.
	if got["BATCH"].Count != 1 {
		t.Errorf("Fetch: BATCH count = %d; have %v", got["BATCH"].Count, keys(got))
	}
	for k := range got {
		// PING: a new tracked connection's check (connPool.open).
		if k != "SET" && k != "BATCH" && k != "PING" {
			t.Errorf("unexpected point %q (listener or handshake?)", k)
		}
	}

	redisstore.Failover(s)
	if _, err := s.Get(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if n := durations(t, r)["GET"].Count; n != 1 {
		t.Errorf("GET after Failover: count = %d, want 1 (the new client is measured)", n)
	}
}
