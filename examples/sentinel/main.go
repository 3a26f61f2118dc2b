// Command sentinel uses rediscache behind Redis Sentinel, with the
// ClientCache on, without fx:
//
//	REDIS_CACHE_SENTINEL_ENABLED=1 REDIS_CACHE_SENTINELS=127.0.0.1:26379,127.0.0.1:26380 \
//	REDIS_CACHE_MASTER_SERVICE=mymaster REDISCACHE_SITE=site1.local go run ./examples/sentinel
//
// It writes a value, reads it back twice (the second read is served from
// memory), and prints the cache statistics.
package main

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/rediscache/rediscache/app/clientcache"
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
		return fmt.Errorf("sentinel setup: %w", err)
	}
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

	if err := site.SetValue(ctx, "greeting", "hello from "+backend.Name); err != nil {
		return err
	}
	for range 2 {
		v, err := clientcache.GetValue[string](ctx, site, "greeting")
		if err != nil {
			return err
		}
		fmt.Println(v)
	}
	st := cc.Statistics()
	fmt.Printf("hits=%d misses=%d healthy=%v\n", st.Hits, st.Misses, st.Healthy)
	return nil
}
