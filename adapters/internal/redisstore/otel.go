package redisstore

import (
	"context"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/puzpuzpuz/xsync/v4"
	"github.com/redis/go-redis/extra/redisotel/v9"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/noop"
	"go.opentelemetry.io/otel/trace"

	"github.com/rediscache/rediscache/domain"
)

// InstrumentationName is the OpenTelemetry instrumentation scope of the
// backend call histogram. It must equal app.InstrumentationName, which
// adapters may not import (ARCHITECTURE.md, dependency rules);
// TestInstrumentationName keeps the two equal.
const InstrumentationName = "github.com/rediscache/rediscache"

// Names of the backend call histogram and of its attributes, after
// OpenTelemetry's database client conventions.
const (
	// OperationDuration is the name of the histogram of backend calls, in
	// seconds.
	OperationDuration = "db.client.operation.duration"

	attrSystem    = "db.system.name"
	attrOperation = "db.operation.name"
	attrAddress   = "server.address"
	attrPort      = "server.port"
	attrErrorType = "error.type"
)

// durationBuckets are the histogram's bucket boundaries, in seconds: the
// ones OpenTelemetry's database client conventions advise.
var durationBuckets = []float64{0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10}

// maxCachedSets bounds the attribute sets a client keeps per server
// address: past it (which only many distinct command names in failure
// could reach), sets are built per call.
const maxCachedSets = 512

// WithTelemetry says where the store reports its backend calls: mp gets
// the db.client.operation.duration histogram of every command sent through
// the clients the store measures (see telemetry), and, when commandSpans
// is set, tp gets a span per command (go-redis' redisotel, without the
// command's text). nil providers mean OpenTelemetry's global ones, which
// is also what a store built without WithTelemetry uses.
func WithTelemetry(mp metric.MeterProvider, tp trace.TracerProvider, commandSpans bool) Option {
	return optionFunc(func(o *options) {
		o.meterProvider, o.tracerProvider, o.commandSpans = mp, tp, commandSpans
	})
}

// telemetry instruments the go-redis clients of a store. Measured: the
// host's client (and the ones Failover builds), every node of a cluster
// client, the tracked connections and the plain reads of a cluster node
// whose tracking is not live. Not measured: the listeners (invalidations,
// broadcast subscriptions: Pub/Sub, no request/response), the clients
// watching a cluster's layout and probing its nodes (ROLE, CLUSTER
// SHARDS), and the adapters' own diagnostic and Sentinel clients.
type telemetry struct {
	hist  metric.Float64Histogram
	tp    trace.TracerProvider
	spans bool
}

func newTelemetry(o options) *telemetry {
	mp, tp := o.meterProvider, o.tracerProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	hist, err := mp.Meter(InstrumentationName).Float64Histogram(OperationDuration,
		metric.WithDescription("Duration of database client operations."),
		metric.WithUnit("s"),
		metric.WithExplicitBucketBoundaries(durationBuckets...))
	if err != nil {
		otel.Handle(err) // hist is still usable: a no-op or the SDK's best effort
	}
	if hist == nil { // a provider that breaks the API's contract
		hist = noop.Float64Histogram{}
	}
	return &telemetry{hist: hist, tp: tp, spans: o.commandSpans}
}

// instrument adds the command spans (when asked for) and the histogram's
// hook to c. A cluster client is instrumented node by node (each node
// client as go-redis creates it, so that server.address names the node):
// give it here before it sends any command.
func (t *telemetry) instrument(c redis.UniversalClient) {
	switch c := c.(type) {
	case *redis.ClusterClient:
		c.OnNewNode(func(n *redis.Client) { t.instrument(n) })
	case *redis.Client:
		if t.spans {
			// Outer: the histogram's records carry the command span's
			// context (exemplars). redisotel only fails for client types
			// it does not know.
			_ = redisotel.InstrumentTracing(c,
				redisotel.WithTracerProvider(t.tp),
				redisotel.WithDBStatement(false), // no key or value text
				redisotel.WithCallerEnabled(false))
		}
		c.AddHook(newMetricsHook(t.hist, c.Options().Addr))
	default:
		c.AddHook(newMetricsHook(t.hist, ""))
	}
}

// metricsHook is the go-redis hook that records every command and pipeline
// of one client in the histogram. Its attribute sets are built once per
// server address and operation name.
type metricsHook struct {
	hist metric.Float64Histogram
	ep   atomic.Pointer[endpointSets]
}

var _ redis.Hook = (*metricsHook)(nil)

func newMetricsHook(hist metric.Float64Histogram, addr string) *metricsHook {
	h := &metricsHook{hist: hist}
	h.ep.Store(newEndpointSets(addr))
	return h
}

// setKey names an attribute set of an endpoint: the lower-case command
// name as go-redis gives it (for a batch, the name all its commands share,
// or ""), and the error type ("" for a success).
type setKey struct {
	batch   bool
	name    string
	errType string
}

// endpointSets are the attribute sets of the calls to one server address.
type endpointSets struct {
	addr  string
	base  []attribute.KeyValue
	sets  *xsync.Map[setKey, []metric.RecordOption]
	count atomic.Int32
}

// newEndpointSets returns the sets of addr ("host:port"); an address that
// is no host:port (a failover client's before its first dial) leaves
// server.address and server.port out.
func newEndpointSets(addr string) *endpointSets {
	e := &endpointSets{addr: addr, sets: xsync.NewMap[setKey, []metric.RecordOption](),
		base: []attribute.KeyValue{attribute.String(attrSystem, "redis")}}
	if host, port, err := net.SplitHostPort(addr); err == nil {
		if p, err := strconv.Atoi(port); err == nil {
			e.base = append(e.base, attribute.String(attrAddress, host), attribute.Int(attrPort, p))
		}
	}
	return e
}

// options returns the record options of k, built on first use.
func (e *endpointSets) options(k setKey) []metric.RecordOption {
	if o, ok := e.sets.Load(k); ok {
		return o
	}
	op := strings.ToUpper(k.name)
	if k.batch {
		op = strings.TrimSpace("BATCH " + op)
	}
	attrs := append(append(make([]attribute.KeyValue, 0, len(e.base)+2), e.base...), attribute.String(attrOperation, op))
	if k.errType != "" {
		attrs = append(attrs, attribute.String(attrErrorType, k.errType))
	}
	o := []metric.RecordOption{metric.WithAttributeSet(attribute.NewSet(attrs...))}
	if e.count.Load() >= maxCachedSets {
		return o
	}
	if _, loaded := e.sets.LoadOrStore(k, o); !loaded {
		e.count.Add(1)
	}
	return o
}

// DialHook follows the address the client dials: a failover client's
// master, known only once resolved, and changing with failovers.
func (h *metricsHook) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		cn, err := next(ctx, network, addr)
		if err != nil {
			return cn, err
		}
		if _, _, e := net.SplitHostPort(addr); e != nil {
			// A failover client's hooks see "FailoverClient": its
			// Dialer resolves the master.
			addr = cn.RemoteAddr().String()
		}
		if h.ep.Load().addr != addr {
			h.ep.Store(newEndpointSets(addr))
		}
		return cn, nil
	}
}

// ProcessHook records one command, named after it.
func (h *metricsHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if !h.hist.Enabled(ctx) || isHandshake(cmd) {
			return next(ctx, cmd)
		}
		start := time.Now()
		err := next(ctx, cmd)
		h.record(ctx, start, setKey{name: cmd.Name()}, err)
		return err
	}
}

// ProcessPipelineHook records a pipeline or a transaction as one call:
// "BATCH <CMD>" when all its commands are <CMD>, else "BATCH". The MULTI
// and EXEC that wrap a transaction (and a cluster's ASKING) do not count.
// It failed when go-redis says so or when one of its commands did.
func (h *metricsHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if !h.hist.Enabled(ctx) || slices.ContainsFunc(cmds, isHandshake) {
			return next(ctx, cmds)
		}
		start := time.Now()
		err := next(ctx, cmds)
		k := setKey{batch: true}
		first := true
		for _, cmd := range cmds {
			switch name := cmd.Name(); {
			case name == "multi" || name == "exec" || name == "asking":
				// go-redis' wrapping of a transaction, not its commands
			case first:
				k.name, first = name, false
			case name != k.name:
				k.name = ""
			}
		}
		failure := err
		if errors.Is(failure, redis.Nil) {
			failure = nil
		}
		for _, cmd := range cmds {
			if failure != nil {
				break
			}
			if e := cmd.Err(); e != nil && !errors.Is(e, redis.Nil) {
				failure = e
			}
		}
		h.record(ctx, start, k, failure)
		return err
	}
}

// isHandshake recognises the commands of a connection's handshake, which
// go-redis sends through the hooks (HELLO, AUTH, CLIENT SETNAME and
// SETINFO, and the CLIENT TRACKING of a tracked connection's OnConnect):
// they run inside the call that needed a new connection, whose duration
// includes them, and a CLIENT SETINFO refused by a Redis < 7.2 would count
// as a failure on every new connection.
func isHandshake(cmd redis.Cmder) bool {
	switch cmd.Name() {
	case "hello", "auth":
		return true
	case "client":
		if args := cmd.Args(); len(args) > 1 {
			if sub, ok := args[1].(string); ok {
				return strings.EqualFold(sub, "setname") || strings.EqualFold(sub, "setinfo") ||
					strings.EqualFold(sub, "tracking")
			}
		}
	}
	return false
}

// record adds the time since start under k's set, with the error type of
// err; redis.Nil (a missing key) is a success.
func (h *metricsHook) record(ctx context.Context, start time.Time, k setKey, err error) {
	d := time.Since(start).Seconds()
	if err != nil && !errors.Is(err, redis.Nil) {
		k.errType = domain.ErrorType(translate("", "", err))
	}
	h.hist.Record(ctx, d, h.ep.Load().options(k)...)
}
