package tests

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/rediscache/rediscache/adapters/cluster"
	"github.com/rediscache/rediscache/adapters/connection"
	"github.com/rediscache/rediscache/adapters/sentinel"
	"github.com/rediscache/rediscache/adapters/standalone"
	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// backendCall is one point of the db.client.operation.duration histogram.
type backendCall struct {
	op, errType, addr string // addr: server.address:server.port
	count             uint64
}

// backendCalls collects the histogram's points, checking its scope and
// unit and the attributes every point has.
func backendCalls(r *sdkmetric.ManualReader) []backendCall {
	GinkgoHelper()
	var rm metricdata.ResourceMetrics
	Expect(r.Collect(context.Background(), &rm)).To(Succeed())
	var out []backendCall
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "db.client.operation.duration" {
				continue
			}
			Expect(sm.Scope.Name).To(Equal(app.InstrumentationName))
			Expect(m.Unit).To(Equal("s"))
			h, ok := m.Data.(metricdata.Histogram[float64])
			Expect(ok).To(BeTrue(), "%T", m.Data)
			for _, dp := range h.DataPoints {
				sys, _ := dp.Attributes.Value("db.system.name")
				Expect(sys.AsString()).To(Equal("redis"))
				op, ok := dp.Attributes.Value("db.operation.name")
				Expect(ok).To(BeTrue())
				host, _ := dp.Attributes.Value("server.address")
				port, _ := dp.Attributes.Value("server.port")
				et, _ := dp.Attributes.Value("error.type")
				out = append(out, backendCall{op: op.AsString(), errType: et.AsString(),
					addr: net.JoinHostPort(host.AsString(), strconv.FormatInt(port.AsInt64(), 10)), count: dp.Count})
			}
		}
	}
	return out
}

// callCount sums the points of op with error type errType on addr (any
// address when addr is "").
func callCount(calls []backendCall, op, errType, addr string) uint64 {
	var n uint64
	for _, c := range calls {
		if c.op == op && c.errType == errType && (addr == "" || c.addr == addr) {
			n += c.count
		}
	}
	return n
}

var _ = Describe("Adapter telemetry", Label("redis", "otel"), func() {
	var ctx context.Context
	BeforeEach(func() { ctx = context.Background() })

	// exercise sends SET, GET, GET of a missing key and a GET of a list
	// (WRONGTYPE) through store, and returns the WRONGTYPE error.
	exercise := func(store ports.Store, key string) error {
		GinkgoHelper()
		DeferCleanup(func() { _, _ = store.Del(context.Background(), key, key+":list") })
		Expect(store.Set(ctx, key, []byte("v"), 0)).To(Succeed())
		Expect(store.Get(ctx, key)).To(Equal([]byte("v")))
		_, err := store.Get(ctx, key+":missing")
		Expect(err).To(MatchError(domain.ErrNotFound))
		_, err = store.LPush(ctx, key+":list", "a")
		Expect(err).NotTo(HaveOccurred())
		_, err = store.Get(ctx, key+":list")
		Expect(err).To(MatchError(domain.ErrWrongType))
		return err
	}
	// expectCalls checks the points of exercise: addr is where key lives
	// ("" when the list's key may live elsewhere).
	expectCalls := func(r *sdkmetric.ManualReader, addr, listAddr string, wrongType error) {
		GinkgoHelper()
		calls := backendCalls(r)
		Expect(callCount(calls, "SET", "", addr)).To(BeNumerically(">=", 1), "%v", calls)
		// The missing key is a success: redis.Nil is a reply.
		Expect(callCount(calls, "GET", "", "")).To(BeNumerically(">=", 2), "%v", calls)
		Expect(callCount(calls, "GET", "", addr)).To(BeNumerically(">=", 1), "%v", calls)
		Expect(callCount(calls, "GET", domain.ErrorType(wrongType), listAddr)).To(Equal(uint64(1)), "%v", calls)
		Expect(domain.ErrorType(wrongType)).To(Equal("wrong_type"))
		for _, c := range calls {
			Expect(c.op).To(Equal(strings.ToUpper(c.op)), "%v", c)
			// The handshake runs inside the call that opened the
			// connection: not a call of its own.
			Expect(c.op).NotTo(Or(HavePrefix("HELLO"), HavePrefix("AUTH"), ContainSubstring("CLIENT")), "%v", c)
		}
	}
	meter := func() (*sdkmetric.ManualReader, connection.Options) {
		r := sdkmetric.NewManualReader()
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(r))
		DeferCleanup(mp.Shutdown)
		return r, connection.Options{MeterProvider: mp}
	}

	It("measures every command of a standalone store", func() {
		r, conn := meter()
		store, err := standalone.New(standalone.Config{Addr: standaloneServer.Addr(), Connection: conn})
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(store.Close)
		wrongType := exercise(store, "telemetry:standalone")
		expectCalls(r, standaloneServer.Addr(), standaloneServer.Addr(), wrongType)
	})

	It("measures every command of a Sentinel store, on the master", func() {
		r, conn := meter()
		cfg := sentinelConfig()
		cfg.Connection = conn
		store, err := sentinel.New(cfg)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(store.Close)
		wrongType := exercise(store, "telemetry:sentinel")
		master := sentinelTopology.Master()
		Expect(master).NotTo(BeNil())
		expectCalls(r, master.Addr(), master.Addr(), wrongType)
	})

	It("measures every command of a cluster store, on the key's master", func() {
		r, conn := meter()
		cfg := clusterConfig()
		cfg.Connection = conn
		store, err := cluster.New(cfg)
		Expect(err).NotTo(HaveOccurred())
		DeferCleanup(store.Close)
		key := "telemetry:cluster"
		wrongType := exercise(store, key)
		expectCalls(r, clusterNodes.MasterFor(key).Addr(), clusterNodes.MasterFor(key+":list").Addr(), wrongType)

		By("a multi-key command split per slot is measured on each master it reaches")
		keys := make([]string, 12)
		for i := range keys {
			keys[i] = fmt.Sprintf("telemetry:cluster:%d", i)
		}
		DeferCleanup(func() { _, _ = store.Del(context.Background(), keys...) })
		_, err = store.Exists(ctx, keys...)
		Expect(err).NotTo(HaveOccurred())
		calls := backendCalls(r)
		masters := map[string]bool{}
		for _, c := range calls {
			if c.op == "BATCH EXISTS" || c.op == "EXISTS" {
				masters[c.addr] = true
			}
		}
		want := map[string]bool{}
		for _, k := range keys {
			want[clusterNodes.MasterFor(k).Addr()] = true
		}
		Expect(masters).To(Equal(want), "%v", calls)
	})

	Describe("command spans", func() {
		const key, value = "telemetry:spans:KEYTEXT", "VALUETEXT"
		run := func(commandSpans bool) []sdktrace.ReadOnlySpan {
			GinkgoHelper()
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
			DeferCleanup(tp.Shutdown)
			store, err := standalone.New(standalone.Config{Addr: standaloneServer.Addr(),
				Connection: connection.Options{TracerProvider: tp, CommandSpans: commandSpans}})
			Expect(err).NotTo(HaveOccurred())
			DeferCleanup(store.Close)
			DeferCleanup(func() { _, _ = store.Del(context.Background(), key) })
			Expect(store.Set(ctx, key, []byte(value), 0)).To(Succeed())
			Expect(store.Get(ctx, key)).To(Equal([]byte(value)))
			_, err = store.Get(ctx, key+":missing")
			Expect(err).To(MatchError(domain.ErrNotFound))
			return rec.Ended()
		}

		It("appear with CommandSpans, without key or value text", func() {
			spans := run(true)
			names := map[string]bool{}
			for _, s := range spans {
				names[s.Name()] = true
				Expect(s.InstrumentationScope().Name).To(ContainSubstring("redisotel"))
				Expect(s.Name()).NotTo(ContainSubstring("KEYTEXT"))
				for _, kv := range s.Attributes() {
					Expect(kv.Value.Emit()).NotTo(Or(ContainSubstring("KEYTEXT"), ContainSubstring("VALUETEXT")),
						"span %s attribute %s", s.Name(), kv.Key)
				}
				for _, ev := range s.Events() {
					for _, kv := range ev.Attributes {
						Expect(kv.Value.Emit()).NotTo(ContainSubstring("KEYTEXT"), "span %s event %s", s.Name(), ev.Name)
					}
				}
			}
			Expect(names).To(HaveKey("set"))
			Expect(names).To(HaveKey("get"))
		})

		It("do not appear without CommandSpans", func() {
			Expect(run(false)).To(BeEmpty())
		})
	})
})
