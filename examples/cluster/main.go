// Command cluster uses rediscache on a Redis Cluster, without fx:
//
//	REDIS_CACHE_CLUSTER_NODES=10.0.0.5:6379,10.0.0.6:6379,10.0.0.7:6379 \
//	REDISCACHE_SITE=site1.local go run ./examples/cluster
//
// The host's code is the same as on one Redis server: only the
// configuration names the cluster's nodes. It writes a value and reads it
// back, writes a hundred keys (which spread over every master), lists them
// and deletes them by prefix, and uses an autocomplete dictionary
// (RediSearch must be loaded on every node). Then it reads through a
// ClientCache, tracked on every master: the second read is a local hit,
// and a write by another client (a second store, as another process would
// be) reaches the local copy.
package main

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/app/clientcache"
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
	return clientCache(ctx, cfg, backend)
}

// clientCache reads greeting through a ClientCache over backend's store,
// while another client of the cluster changes it.
func clientCache(ctx context.Context, cfg fxmodule.Config, backend *fxmodule.Backend) error {
	cc, err := clientcache.New(backend.Store, clientcache.Config{})
	if err != nil {
		return err
	}
	if err := cc.Start(ctx); err != nil {
		return err
	}
	defer cc.Stop(context.Background())
	site, err := cc.Site(cfg.Site)
	if err != nil {
		return err
	}
	for range 2 {
		if _, err := clientcache.GetValue[string](ctx, site, "greeting"); err != nil {
			return err
		}
	}

	other, err := fxmodule.NewBackend(cfg, nil) // another client, as another process
	if err != nil {
		return err
	}
	defer other.Close()
	otherCache, err := app.New(other.Store, app.Config{Site: cfg.Site})
	if err != nil {
		return err
	}
	if err := otherCache.SetValue(ctx, "greeting", "changed by another client"); err != nil {
		return err
	}
	// The change reaches the local copy by invalidation, within
	// milliseconds: read until it shows.
	for {
		v, err := clientcache.GetValue[string](ctx, site, "greeting")
		if err != nil {
			return err
		}
		if v == "changed by another client" {
			fmt.Println("client cache:", v)
			break
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Millisecond):
		}
	}
	st := cc.Statistics()
	fmt.Printf("client cache: hits>=1 %v, invalidations>=1 %v, healthy=%v\n", st.Hits >= 1, st.Invalidations >= 1, st.Healthy)
	return nil
}
