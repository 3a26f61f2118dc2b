package clientcache

import (
	"context"
	"errors"
	"math/bits"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"weak"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/app/internal/sitelimit"
	"github.com/rediscache/rediscache/app/internal/spans"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// MetricPrefix is the prefix of the names of the ClientCache's metrics.
const MetricPrefix = app.MetricPrefix + "clientcache."

// SharedSite is the site attribute of the reads of keys outside every site
// (the shared keys of an app.Cache built on Store()).
const SharedSite = "_shared"

// Reasons of a flush (the reason attribute of flushes and flushed) besides
// the domain.Reason* values a tracker reports.
const (
	// ReasonClear: ClearCache.
	ReasonClear = "clear"
	// ReasonOther: a drop reason this version does not know.
	ReasonOther = "other"
)

// flushReasons are the reason attribute values, indexed as
// counters.flushes.
var flushReasons = [...]string{domain.ReasonFlushAll, domain.ReasonConnLost, domain.ReasonFailover,
	domain.ReasonSlotMoved, domain.ReasonStop, ReasonClear, ReasonOther}

func reasonIndex(reason string) int {
	for i, r := range flushReasons {
		if r == reason {
			return i
		}
	}
	return len(flushReasons) - 1
}

// siteStats are the counters of one site, kept for the life of the
// ClientCache (Site handles and entries point to them). A hit adds to one
// stripe of hits: one atomic add on a line few other cores write.
type siteStats struct {
	name   string
	hits   []paddedCounter
	mask   uint64
	misses atomic.Uint64
	// genRuns counts the generators run for a missing key, genUnstored the
	// generated values served while the backend refused or was down.
	genRuns     atomic.Uint64
	genUnstored atomic.Uint64
	// set is the site's attribute set in metrics: its name, OtherSite past
	// the site limit, empty when the site attribute is off.
	set attribute.Set
}

// hitStripes is the number of stripes of a site's hit counter: enough for
// the cores the process runs on, at most shardCount.
var hitStripes = func() int {
	n := 1 << bits.Len(uint(4*runtime.GOMAXPROCS(0)-1))
	return min(n, shardCount)
}()

func (s *siteStats) totalHits() uint64 {
	var n uint64
	for i := range s.hits {
		n += s.hits[i].Load()
	}
	return n
}

// siteRegistry is the siteStats of every site seen, in the order seen.
type siteRegistry struct {
	byName sync.Map // string → *siteStats
	mu     sync.Mutex
	all    atomic.Pointer[[]*siteStats] // copy-on-write
	sets   *sitelimit.Limiter           // the site attribute, bounded by app.Telemetry.Limit()
}

// siteName returns the site part of a full key ("<site>|…"), SharedSite
// for a key outside every site.
func siteName(k string) string {
	if i := strings.IndexByte(k, domain.SiteSeparator[0]); i > 0 {
		return k[:i]
	}
	return SharedSite
}

// of returns the stats of the site of the full key k.
func (r *siteRegistry) of(k string) *siteStats { return r.get(siteName(k)) }

// get returns the stats of the site named name, made on first use.
func (r *siteRegistry) get(name string) *siteStats {
	if s, ok := r.byName.Load(name); ok {
		return s.(*siteStats)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.byName.Load(name); ok {
		return s.(*siteStats)
	}
	name = strings.Clone(name)
	s := &siteStats{name: name, hits: make([]paddedCounter, hitStripes), mask: uint64(hitStripes - 1)}
	s.set = r.sets.Set(name)
	var all []*siteStats
	if p := r.all.Load(); p != nil {
		all = append(all, *p...)
	}
	all = append(all, s)
	r.all.Store(&all)
	r.byName.Store(name, s)
	return s
}

// each calls f for every site seen.
func (r *siteRegistry) each(f func(*siteStats)) {
	if p := r.all.Load(); p != nil {
		for _, s := range *p {
			f(s)
		}
	}
}

// Attribute keys.
const (
	attrSite   = "site"
	attrReason = "reason"
	attrCause  = "cause"

	spanAttrSystem = "db.system.name"
	spanAttrSite   = "rediscache.site"
	spanAttrHit    = "rediscache.hit"
	spanAttrKey    = "rediscache.key"
)

// telemetry is the ClientCache's span settings.
type telemetry struct {
	tracer   trace.Tracer
	hitSpans bool
	keyAttrs bool
}

// registerMetrics creates the ClientCache's instruments and registers the
// callback that observes them. The callback holds c weakly: the meter
// provider does not keep a discarded ClientCache alive, and the callback is
// unregistered once c is garbage collected.
func (c *ClientCache) registerMetrics(m metric.Meter) error {
	var errs []error
	counter := func(name, unit, desc string) metric.Int64ObservableCounter {
		in, err := m.Int64ObservableCounter(MetricPrefix+name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return in
	}
	gauge := func(name, unit, desc string) metric.Int64ObservableGauge {
		in, err := m.Int64ObservableGauge(MetricPrefix+name, metric.WithUnit(unit), metric.WithDescription(desc))
		errs = append(errs, err)
		return in
	}
	hits := counter("hits", "{hit}", "Reads answered from local memory (remembered misses included).")
	misses := counter("misses", "{miss}", "Reads that went to the backend.")
	invalidations := counter("invalidations", "{key}", "Keys the store's tracking reported changed.")
	invalidated := counter("invalidated", "{entry}", "Local entries dropped by an invalidation.")
	flushes := counter("flushes", "{flush}", "Flushes of the local copies (whole or a lease's scope), by reason.")
	flushed := counter("flushed", "{entry}", "Local entries dropped by a flush, by reason.")
	evictions := counter("evictions", "{entry}", "Local entries evicted, or fetched values not admitted, to honour the bounds.")
	expirations := counter("expirations", "{entry}", "Local entries found expired (LocalTTL or the key's TTL).")
	rejected := counter("rejected", "{value}", "Values served but not kept: larger than MaxEntryBytes.")
	discarded := counter("fetches.discarded", "{fetch}", "Fetched values not kept: an invalidation, flush or stop came first.")
	genRuns := counter("generator.runs", "{run}", "Generators run for a missing key.")
	genUnstored := counter("generator.served_unstored", "{value}", "Generated values served without being kept: the backend refused or was down.")
	entries := gauge("entries", "{entry}", "Local entries held (remembered misses included).")
	bytes := gauge("bytes", "By", "Accounted size of the local entries.")
	bytesLimit := gauge("bytes.limit", "By", "MaxBytes; 0 means no byte bound.")
	healthy := gauge("healthy", "1", "1 while local copies are served (started and tracking live), else 0.")
	sessions := gauge("tracking.sessions", "{session}", "Live tracking sessions of the store.")
	if err := errors.Join(errs...); err != nil {
		return err
	}

	reasonSets := make([]metric.ObserveOption, len(flushReasons))
	for i, r := range flushReasons {
		reasonSets[i] = metric.WithAttributes(attribute.String(attrReason, r))
	}
	cause := func(v string) metric.ObserveOption { return metric.WithAttributes(attribute.String(attrCause, v)) }
	evEntries, evBytes, evAdm := cause("entries"), cause("bytes"), cause("not_admitted")
	exLocal, exKey := cause("local_ttl"), cause("key_ttl")
	otherSet := attribute.NewSet(attribute.String(attrSite, app.OtherSite))
	i64 := func(v uint64) int64 { return int64(v) }

	w := weak.Make(c)
	reg, err := m.RegisterCallback(func(_ context.Context, o metric.Observer) error {
		c := w.Value()
		if c == nil {
			return nil
		}
		st := &c.st
		// Per site: the sites past the limit are summed into OtherSite.
		var oh, om, og, ou uint64
		others := false
		c.sitesSeen.each(func(s *siteStats) {
			h, m, g, u := s.totalHits(), s.misses.Load(), s.genRuns.Load(), s.genUnstored.Load()
			if s.set.Equals(&otherSet) {
				others = true
				oh, om, og, ou = oh+h, om+m, og+g, ou+u
				return
			}
			opt := metric.WithAttributeSet(s.set)
			o.ObserveInt64(hits, i64(h), opt)
			o.ObserveInt64(misses, i64(m), opt)
			o.ObserveInt64(genRuns, i64(g), opt)
			o.ObserveInt64(genUnstored, i64(u), opt)
		})
		if others {
			opt := metric.WithAttributeSet(otherSet)
			o.ObserveInt64(hits, i64(oh), opt)
			o.ObserveInt64(misses, i64(om), opt)
			o.ObserveInt64(genRuns, i64(og), opt)
			o.ObserveInt64(genUnstored, i64(ou), opt)
		}
		o.ObserveInt64(invalidations, i64(st.invKeys.Load()))
		o.ObserveInt64(invalidated, i64(st.inval.Load()))
		for i := range flushReasons {
			o.ObserveInt64(flushes, i64(st.flushes[i].Load()), reasonSets[i])
			o.ObserveInt64(flushed, i64(st.flushed[i].Load()), reasonSets[i])
		}
		o.ObserveInt64(evictions, i64(st.evSize.Load()), evEntries)
		o.ObserveInt64(evictions, i64(st.evBytes.Load()), evBytes)
		o.ObserveInt64(evictions, i64(st.admRej.Load()), evAdm)
		o.ObserveInt64(expirations, i64(st.expLocal.Load()), exLocal)
		o.ObserveInt64(expirations, i64(st.expKey.Load()), exKey)
		o.ObserveInt64(rejected, i64(st.rejected.Load()))
		o.ObserveInt64(discarded, i64(st.raced.Load()))
		o.ObserveInt64(entries, c.local.count.Load())
		o.ObserveInt64(bytes, c.local.bytes.Load())
		o.ObserveInt64(bytesLimit, c.cfg.MaxBytes)
		h := int64(0)
		if c.Healthy() {
			h = 1
		}
		o.ObserveInt64(healthy, h)
		o.ObserveInt64(sessions, int64(c.trackingSessions()))
		return nil
	}, hits, misses, invalidations, invalidated, flushes, flushed, evictions, expirations, rejected,
		discarded, genRuns, genUnstored, entries, bytes, bytesLimit, healthy, sessions)
	if err != nil {
		return err
	}
	runtime.AddCleanup(c, func(r metric.Registration) { _ = r.Unregister() }, reg)
	return nil
}

// trackingSessions is the store's count of live tracking sessions
// (ports.TrackingSessions), or 1 while its tracking is live.
func (c *ClientCache) trackingSessions() int {
	if ts, ok := c.store.(ports.TrackingSessions); ok {
		return ts.TrackingSessions()
	}
	if c.store.Tracking() {
		return 1
	}
	return 0
}

// startSpan starts the span of the ClientCache operation op on site,
// a child of ctx's span. key is the caller's key (without the site prefix),
// recorded only with KeyAttributes.
func (c *ClientCache) startSpan(ctx context.Context, op, site, key string, hit bool) (context.Context, trace.Span) {
	n := 3
	if c.tel.keyAttrs && key != "" {
		n++
	}
	attrs := make([]attribute.KeyValue, 0, n)
	attrs = append(attrs, attribute.String(spanAttrSystem, "redis"), attribute.String(spanAttrSite, site),
		attribute.Bool(spanAttrHit, hit))
	if n > 3 {
		attrs = append(attrs, attribute.String(spanAttrKey, key))
	}
	return c.tel.tracer.Start(ctx, op, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...))
}

// hitSpan records a local hit of op as a span, when HitSpans is on.
func (c *ClientCache) hitSpan(ctx context.Context, op, site, key string) {
	_, span := c.startSpan(ctx, op, site, key, true)
	span.End()
}

// endSpan ends span with the outcome of its operation: err (a missing key
// is an outcome, not an error, when missOK) and whether it was a hit. An
// error is recorded as an exception event whose message is the error's
// text only with KeyAttributes (error texts may name the key), its
// error.type otherwise.
func (c *ClientCache) endSpan(span trace.Span, err error, hit, missOK bool) {
	if hit {
		span.SetAttributes(attribute.Bool(spanAttrHit, true))
	}
	if err != nil && !(missOK && errors.Is(err, domain.ErrNotFound)) {
		spans.RecordError(span, err, c.tel.keyAttrs)
	}
	span.End()
}

// trimSite is the caller's part of the full key k (without "<site>|").
func trimSite(k string) string {
	if i := strings.IndexByte(k, domain.SiteSeparator[0]); i > 0 {
		return k[i+1:]
	}
	return k
}
