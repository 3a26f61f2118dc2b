package app

import (
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// InstrumentationName is the OpenTelemetry instrumentation scope of every
// meter and tracer of rediscache, and MetricPrefix the prefix of its
// metric names (the backend call histogram excepted: it follows
// OpenTelemetry's database client conventions, db.client.operation.duration).
const (
	InstrumentationName = "github.com/rediscache/rediscache"
	MetricPrefix        = "rediscache."
)

// DefaultSiteLimit is Telemetry.SiteLimit's default: how many sites are
// reported under their own name in the site attribute.
const DefaultSiteLimit = 256

// OtherSite is the site attribute's value for the sites past
// Telemetry.SiteLimit.
const OtherSite = "_other"

// Telemetry says where a Cache or a ClientCache reports its metrics and
// spans, and how much it says. The zero value reports through
// OpenTelemetry's global providers (no-ops until the host installs its
// own), with a site attribute for the first DefaultSiteLimit sites, no span
// for a local hit, and no key text in any attribute.
type Telemetry struct {
	// MeterProvider receives the metrics. nil means otel.GetMeterProvider().
	MeterProvider metric.MeterProvider
	// TracerProvider receives the spans. nil means
	// otel.GetTracerProvider().
	TracerProvider trace.TracerProvider
	// SiteLimit bounds the cardinality of the site attribute: the first
	// SiteLimit sites seen are reported under their own name, later ones
	// as OtherSite. 0 means DefaultSiteLimit; a negative value leaves the
	// site attribute out of metrics altogether (spans keep it: a span's
	// attributes do not multiply time series).
	SiteLimit int
	// HitSpans makes a local hit of the ClientCache (or a request-local
	// hit of the Cache) start a span too. By default a hit is counted, not
	// traced: it takes nanoseconds, a span costs microseconds.
	HitSpans bool
	// KeyAttributes adds the key (as the caller named it, without the site
	// prefix) to spans as rediscache.key. Off by default: keys may hold
	// personal data. Values never appear in any attribute.
	KeyAttributes bool
}

// Meter returns the meter of t's MeterProvider (or the global one).
func (t Telemetry) Meter() metric.Meter {
	mp := t.MeterProvider
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	return mp.Meter(InstrumentationName)
}

// Tracer returns the tracer of t's TracerProvider (or the global one).
func (t Telemetry) Tracer() trace.Tracer {
	tp := t.TracerProvider
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	return tp.Tracer(InstrumentationName)
}

// Limit returns the effective SiteLimit: DefaultSiteLimit for 0, -1 when
// the site attribute is off.
func (t Telemetry) Limit() int {
	switch {
	case t.SiteLimit == 0:
		return DefaultSiteLimit
	case t.SiteLimit < 0:
		return -1
	}
	return t.SiteLimit
}
