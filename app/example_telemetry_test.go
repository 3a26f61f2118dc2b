package app_test

import (
	"context"
	"fmt"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/rediscache/rediscache/adapters/memory"
	"github.com/rediscache/rediscache/app"
)

// A Cache built WithTelemetry traces each operation that reaches the
// backend as a child of the caller's span.
func ExampleWithTelemetry() {
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	defer func() { _ = tp.Shutdown(context.Background()) }()

	cache, _ := app.New(memory.New(memory.Config{}), app.Config{Site: "site1.local"},
		app.WithTelemetry(app.Telemetry{TracerProvider: tp}))
	ctx, request := tp.Tracer("host").Start(context.Background(), "GET /settings")
	_ = cache.SetValue(ctx, "theme", "dark")
	_, _ = app.GetValue[string](ctx, cache, "theme")
	request.End()

	for _, s := range exp.GetSpans() {
		fmt.Println(s.Name)
	}
	// Output:
	// rediscache.SetValue
	// rediscache.GetRaw
	// GET /settings
}
