// Command hostapp is a small host application that greets users, remembering
// their last visit in rediscache. Its test (main_test.go) shows how a host
// swaps the Redis backend for the in-memory one with fxmodule.UseMemory.
//
//	REDIS_CACHE=redis://127.0.0.1:6379 REDISCACHE_SITE=site1.local go run ./examples/hostapp jane
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"go.uber.org/fx"

	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/fxmodule"
)

// Greeter is the host's service: it depends on the Cache only.
type Greeter struct{ cache *app.Cache }

// NewGreeter is the host's constructor, consuming what fxmodule provides.
func NewGreeter(cache *app.Cache) *Greeter { return &Greeter{cache: cache} }

// Greet says hello and remembers the visit.
func (g *Greeter) Greet(ctx context.Context, user string, now time.Time) (string, error) {
	last, err := app.GetOrGenerate(ctx, g.cache, "last_visit", func(context.Context) (time.Time, error) {
		return time.Time{}, nil
	}, app.User(user))
	if err != nil {
		return "", err
	}
	if err := g.cache.SetValue(ctx, "last_visit", now, app.User(user)); err != nil {
		return "", err
	}
	if last.IsZero() {
		return fmt.Sprintf("welcome, %s", user), nil
	}
	return fmt.Sprintf("welcome back, %s (last visit %s)", user, last.Format(time.RFC3339)), nil
}

// Options is the host's fx graph, shared by main and the tests.
var Options = fx.Options(
	fxmodule.Module,
	fx.Provide(NewGreeter),
)

func main() {
	user := "guest"
	if len(os.Args) > 1 {
		user = os.Args[1]
	}
	var g *Greeter
	app := fx.New(fx.NopLogger, fxmodule.FromEnv, Options, fx.Populate(&g))
	ctx := context.Background()
	if err := app.Start(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer app.Stop(ctx)
	msg, err := g.Greet(ctx, user, time.Now())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(msg)
}
