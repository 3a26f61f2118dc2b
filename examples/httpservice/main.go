// Command httpservice is an HTTP service wired with fx that reads hot settings
// through the ClientCache. Run two copies against one Redis and a write to
// one invalidates the other's local copy at once:
//
//	export REDIS_CACHE=redis://127.0.0.1:6379 REDISCACHE_SITE=site1.local
//	ADDR=127.0.0.1:8081 go run ./examples/httpservice &
//	ADDR=127.0.0.1:8082 go run ./examples/httpservice &
//	curl -X PUT -d '"dark"' 127.0.0.1:8081/settings/theme
//	curl 127.0.0.1:8082/settings/theme    # "dark", from Redis, then from memory
//	curl -X PUT -d '"light"' 127.0.0.1:8081/settings/theme
//	curl 127.0.0.1:8082/settings/theme    # "light": the local copy was invalidated
//	curl 127.0.0.1:8082/stats
//	curl 127.0.0.1:8082/metrics           # rediscache_clientcache_hits_total{site="site1.local",…}
//
// /metrics serves the cache's OpenTelemetry metrics through the Prometheus
// exporter: the host provides a metric.MeterProvider to fx (newMeterProvider)
// and the module reports to it. The hit ratio is
// rediscache_clientcache_hits_total / (hits + rediscache_clientcache_misses_total).
//
// Configuration comes from the environment (see fxmodule.ConfigFromEnv).
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"

	promclient "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.uber.org/fx"
	"go.uber.org/fx/fxevent"
	"go.uber.org/zap"

	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/app/clientcache"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/fxmodule"
)

func main() {
	fx.New(
		fx.Provide(zap.NewProduction),
		fx.WithLogger(func(log *zap.Logger) fxevent.Logger { return &fxevent.ZapLogger{Logger: log.Named("fx")} }),
		fxmodule.FromEnv,
		fxmodule.Module,
		fxmodule.ClientCache,         // the host's *app.Cache now reads through process memory
		fx.Provide(newMeterProvider), // the one line that turns the cache's metrics on
		fx.Provide(newMux),
		fx.Invoke(serve),
	).Run()
}

// metrics is the Prometheus registry the MeterProvider's exporter fills.
type metrics struct{ reg *promclient.Registry }

// newMeterProvider is an OpenTelemetry MeterProvider whose reader is the
// Prometheus exporter, on a registry of its own; fxmodule picks it up from
// the graph.
func newMeterProvider(lc fx.Lifecycle) (metric.MeterProvider, metrics, error) {
	reg := promclient.NewRegistry()
	exp, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		return nil, metrics{}, err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp))
	lc.Append(fx.StopHook(mp.Shutdown))
	return mp, metrics{reg: reg}, nil
}

// newMux routes the settings API onto the (client-cached) Cache.
func newMux(cache *app.Cache, cc *clientcache.ClientCache, m metrics) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("GET /settings/{key}", func(w http.ResponseWriter, r *http.Request) {
		v, err := app.GetValue[json.RawMessage](r.Context(), cache, "settings:"+r.PathValue("key"))
		switch {
		case errors.Is(err, domain.ErrNotFound):
			http.Error(w, "not found", http.StatusNotFound)
		case err != nil:
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		default:
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(v)
		}
	})
	mux.HandleFunc("PUT /settings/{key}", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil || !json.Valid(body) {
			http.Error(w, "body must be JSON", http.StatusBadRequest)
			return
		}
		if err := cache.SetValue(r.Context(), "settings:"+r.PathValue("key"), json.RawMessage(body)); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(cc.Statistics())
	})
	return mux
}

// serve listens on $ADDR (default 127.0.0.1:8080) on start and shuts down
// on stop. It prints the address it listens on, for scripts and tests.
func serve(lc fx.Lifecycle, mux *http.ServeMux, log *zap.Logger) {
	addr := os.Getenv("ADDR")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	srv := &http.Server{Handler: mux}
	lc.Append(fx.Hook{
		OnStart: func(ctx context.Context) error {
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return err
			}
			fmt.Printf("listening on %s\n", ln.Addr())
			go func() {
				if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					log.Error("http server stopped", zap.Error(err))
				}
			}()
			return nil
		},
		OnStop: srv.Shutdown,
	})
}
