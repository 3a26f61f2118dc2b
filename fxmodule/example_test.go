package fxmodule_test

import (
	"context"
	"fmt"

	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/fxmodule"
)

// ExampleNewBackend builds the memory backend by name and a site's Cache on
// it.
func ExampleNewBackend() {
	b, err := fxmodule.NewBackend(fxmodule.Config{Backend: fxmodule.BackendMemory, Site: "site1.local"}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer b.Close()
	ctx := context.Background()
	fmt.Println(b.Name, b.Pinger.Ping(ctx))

	cache, err := app.New(b.Store, app.Config{Site: "site1.local"})
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = cache.SetValue(ctx, "greeting", "hello")
	v, err := app.GetValue[string](ctx, cache, "greeting")
	fmt.Println(v, err)
	// Output:
	// memory <nil>
	// hello <nil>
}

// ExampleConfig_Validate shows Frappe's settings for a Sentinel deployment
// and what Validate says about a broken one.
func ExampleConfig_Validate() {
	good := fxmodule.Config{
		SentinelEnabled: true,
		Sentinels:       []string{"10.0.0.5:26379", "[fd00::6]:26379"},
		MasterService:   "mymaster",
		MasterPassword:  "secret",
	}
	fmt.Println(good.Validate())

	bad := fxmodule.Config{SentinelEnabled: true, Sentinels: []string{"fd00::6:26379"}}
	fmt.Println(bad.Validate())
	// Output:
	// <nil>
	// rediscache: config: rediscache: invalid argument: redis_cache_sentinels (REDIS_CACHE_SENTINELS) entry 1: "fd00::6:26379" is not host:port (too many colons in address; write IPv6 literals in brackets, as [::1]:6379)
	// rediscache: config: rediscache: invalid argument: redis_cache_master_service (REDIS_CACHE_MASTER_SERVICE) is not set: give the name the sentinels monitor the master under
}
