package fxmodule_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/fxmodule"
)

// The providers of the graph receive the Cache's spans and the
// ClientCache's metrics.
func TestModuleTelemetryFromTheGraph(t *testing.T) {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	var cache *app.Cache
	fxApp := fxtest.New(t,
		fxmodule.Module, fxmodule.ClientCache, fxmodule.UseMemory,
		fx.Supply(fxmodule.Config{Site: "s1"}),
		fx.Provide(func() metric.MeterProvider { return mp }, func() trace.TracerProvider { return tp }),
		fx.Populate(&cache),
	).RequireStart()
	defer fxApp.RequireStop()
	ctx := context.Background()
	if err := cache.SetValue(ctx, "k", 1); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := app.GetValue[int](ctx, cache, "k"); err != nil {
			t.Fatal(err)
		}
	}
	if spans := exp.GetSpans(); len(spans) == 0 || spans[0].Name != "rediscache.SetValue" {
		t.Errorf("spans %v, want rediscache.SetValue first", spans)
	}
	var rm metricdata.ResourceMetrics
	if err := reader.Collect(ctx, &rm); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			found = found || m.Name == "rediscache.clientcache.hits"
		}
	}
	if !found {
		t.Errorf("no rediscache.clientcache.hits in %+v", rm.ScopeMetrics)
	}
}

// Without providers in the graph the module starts, on the globals.
func TestModuleTelemetryWithoutProviders(t *testing.T) {
	var cache *app.Cache
	fxApp := fxtest.New(t,
		fxmodule.Module, fxmodule.ClientCache, fxmodule.UseMemory,
		fx.Supply(fxmodule.Config{Site: "s1", TelemetrySiteLimit: -1, TelemetryHitSpans: true}),
		fx.Populate(&cache),
	).RequireStart()
	defer fxApp.RequireStop()
	if err := cache.SetValue(context.Background(), "k", 1); err != nil {
		t.Fatal(err)
	}
}
