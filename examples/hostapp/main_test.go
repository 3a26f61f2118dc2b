package main

import (
	"context"
	"testing"
	"time"

	"go.uber.org/fx"
	"go.uber.org/fx/fxtest"

	"github.com/rediscache/rediscache/fxmodule"
)

// TestGreet runs the host's real fx graph with the backend swapped for the
// in-memory one: no Redis needed, same code path.
func TestGreet(t *testing.T) {
	var g *Greeter
	app := fxtest.New(t, fx.NopLogger,
		fx.Supply(fxmodule.Config{RedisCache: "redis://cache.invalid:6379", Site: "test"}),
		Options,
		fxmodule.UseMemory, // the swap
		fx.Populate(&g),
	)
	app.RequireStart()
	defer app.RequireStop()

	ctx := context.Background()
	first := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	msg, err := g.Greet(ctx, "jane", first)
	if err != nil || msg != "welcome, jane" {
		t.Fatalf("first greet = %q, %v", msg, err)
	}
	msg, err = g.Greet(ctx, "jane", first.Add(time.Hour))
	if err != nil || msg != "welcome back, jane (last visit 2026-11-25T10:00:00Z)" {
		t.Fatalf("second greet = %q, %v", msg, err)
	}
}
