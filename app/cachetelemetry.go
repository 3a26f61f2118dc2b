package app

import (
	"context"
	"errors"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/rediscache/rediscache/app/internal/sitelimit"
	"github.com/rediscache/rediscache/app/internal/spans"
	"github.com/rediscache/rediscache/domain"
)

// CacheMetricPrefix is the prefix of the names of the Cache's metrics.
const CacheMetricPrefix = MetricPrefix + "cache."

// Attribute keys of the Cache's spans and metrics (the ClientCache uses the
// same).
const (
	attrSite       = "site"
	spanAttrSystem = "db.system.name"
	spanAttrSite   = "rediscache.site"
	spanAttrHit    = "rediscache.hit"
	spanAttrKey    = "rediscache.key"
)

// WithTelemetry makes the Cache report through t: a span
// rediscache.<Method> (rediscache.GetRaw, rediscache.SetValue,
// rediscache.DeleteKeys, rediscache.HGetRaw, …) for every operation that
// reaches the backend, a child of ctx's span, and the counters
// rediscache.cache.generator.runs and
// rediscache.cache.generator.served_unstored. See Telemetry for what
// the spans say.
//
// Without WithTelemetry a Cache reports nothing and pays nothing (one nil
// check per operation). WithTelemetry(Telemetry{}) reports through
// OpenTelemetry's global providers, no-ops until the host installs its
// own.
func WithTelemetry(t Telemetry) CacheOption {
	return func(c *Cache) { c.telCfg = &t }
}

// cacheTelemetry is what a Cache built WithTelemetry reports with.
type cacheTelemetry struct {
	tracer      trace.Tracer
	hitSpans    bool
	keyAttrs    bool
	genRuns     metric.Int64Counter
	genUnstored metric.Int64Counter
	set         metric.AddOption // the site attribute, bounded by SiteLimit
}

// newCacheTelemetry builds the instruments of t for the Cache of site. The
// site attribute's limit is shared by every Cache reporting to the same
// meter with the same SiteLimit.
func newCacheTelemetry(t Telemetry, site string) (*cacheTelemetry, error) {
	m := t.Meter()
	runs, err1 := m.Int64Counter(CacheMetricPrefix+"generator.runs", metric.WithUnit("{run}"),
		metric.WithDescription("Generators run for a missing key."))
	unstored, err2 := m.Int64Counter(CacheMetricPrefix+"generator.served_unstored", metric.WithUnit("{value}"),
		metric.WithDescription("Generated values served without being stored: the backend refused or was down."))
	if err := errors.Join(err1, err2); err != nil {
		return nil, err
	}
	set := sitelimit.Shared(m, attrSite, OtherSite, t.Limit()).Set(site)
	return &cacheTelemetry{tracer: t.Tracer(), hitSpans: t.HitSpans, keyAttrs: t.KeyAttributes,
		genRuns: runs, genUnstored: unstored, set: metric.WithAttributeSet(set)}, nil
}

// start starts the span of op on key (the caller's key, recorded only with
// KeyAttributes), a child of ctx's. Without telemetry it returns ctx and a
// nil span, which end ignores.
func (c *Cache) start(ctx context.Context, op, key string) (context.Context, trace.Span) {
	t := c.tel
	if t == nil {
		return ctx, nil
	}
	ctx, span := t.tracer.Start(ctx, op, clientKind)
	if !span.IsRecording() { // a no-op or unsampled span: no attributes to build
		return ctx, span
	}
	span.SetAttributes(attribute.String(spanAttrSystem, "redis"), attribute.String(spanAttrSite, c.site))
	if t.keyAttrs && key != "" {
		span.SetAttributes(attribute.String(spanAttrKey, key))
	}
	return ctx, span
}

var clientKind = trace.WithSpanKind(trace.SpanKindClient)

// end ends span with the outcome *err of an operation (a missing key is an
// outcome, not an error).
func (c *Cache) end(span trace.Span, err *error) {
	if span != nil && errors.Is(*err, domain.ErrNotFound) {
		span.End()
	} else if span != nil {
		c.finish(span, *err)
	}
}

// endRead ends span with the outcome *err of a read and hit, whether the
// backend had the value; a missing key is an outcome, not an error.
func (c *Cache) endRead(span trace.Span, err *error, hit bool) {
	if span == nil {
		return
	}
	span.SetAttributes(attribute.Bool(spanAttrHit, hit))
	if errors.Is(*err, domain.ErrNotFound) {
		span.End()
		return
	}
	c.finish(span, *err)
}

// finish records err (its error.type; its text only with KeyAttributes,
// as error texts may name the key) and ends span.
func (c *Cache) finish(span trace.Span, err error) {
	if err != nil {
		spans.RecordError(span, err, c.tel.keyAttrs)
	}
	span.End()
}

// localHit records a request-local hit of op on key as a span, only with
// HitSpans.
func (c *Cache) localHit(ctx context.Context, op, key string) {
	if c.tel == nil || !c.tel.hitSpans {
		return
	}
	_, span := c.start(ctx, op, key)
	span.SetAttributes(attribute.Bool(spanAttrHit, true))
	span.End()
}

// generated counts a generator run, and whether its value was served
// without being stored.
func (c *Cache) generated(ctx context.Context, unstored bool) {
	if c.tel == nil {
		return
	}
	c.tel.genRuns.Add(ctx, 1, c.tel.set)
	if unstored {
		c.tel.genUnstored.Add(ctx, 1, c.tel.set)
	}
}
