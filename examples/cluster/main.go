// Command cluster uses rediscache on a Redis Cluster, without fx:
//
//	REDIS_CACHE_CLUSTER_NODES=10.0.0.5:6379,10.0.0.6:6379,10.0.0.7:6379 \
//	REDISCACHE_SITE=site1.local go run ./examples/cluster
//
// The host's code is the same as on one Redis server: only the
// configuration names the cluster's nodes. It writes a value and reads it
// back, writes a hundred keys (which spread over every master), lists them
// and deletes them by prefix, and uses an autocomplete dictionary
// (RediSearch must be loaded on every node).
package main

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/fxmodule"
)

func main() {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context) error {
	cfg, err := fxmodule.ConfigFromEnv()
	if err != nil {
		return err
	}
	backend, err := fxmodule.NewBackend(cfg, nil)
	if err != nil {
		return err
	}
	defer backend.Close()
	if err := backend.Pinger.Ping(ctx); err != nil {
		return fmt.Errorf("cluster setup: %w", err)
	}
	cache, err := app.New(backend.Store, app.Config{Site: cfg.Site})
	if err != nil {
		return err
	}

	if err := cache.SetValue(ctx, "greeting", "hello from "+backend.Name); err != nil {
		return err
	}
	greeting, err := app.GetValue[string](ctx, cache, "greeting")
	if err != nil {
		return err
	}
	fmt.Println(greeting)

	for i := range 100 {
		if err := cache.SetValue(ctx, fmt.Sprintf("doc:%d", i), i, app.Expires(time.Minute)); err != nil {
			return err
		}
	}
	keys, err := cache.GetKeys(ctx, "doc:") // SCAN on every master
	if err != nil {
		return err
	}
	deleted, err := cache.DeleteKeys(ctx, "doc:") // UNLINK, split by hash slot
	if err != nil {
		return err
	}
	fmt.Printf("listed %d keys, deleted %d\n", len(keys), deleted)

	ft := cache.FT("")
	if _, err := ft.SugAdd(ctx, "cities", domain.Suggestion{String: "Zurich", Score: 2}, domain.Suggestion{String: "Zug"}); err != nil {
		return err
	}
	sugs, err := ft.SugGet(ctx, "cities", "zu", domain.SugGetOptions{})
	if err != nil {
		return err
	}
	for _, s := range sugs {
		fmt.Println("suggestion:", s.String)
	}
	return nil
}
