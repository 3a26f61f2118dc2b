package fxmodule_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/fxmodule"
)

// allEnv lists every variable ConfigFromEnv reads.
var allEnv = []string{
	fxmodule.EnvBackend, fxmodule.EnvSite, fxmodule.EnvRedisCache, fxmodule.EnvSentinelEnabled,
	fxmodule.EnvSentinels, fxmodule.EnvSentinelUsername, fxmodule.EnvSentinelPassword,
	fxmodule.EnvMasterUsername, fxmodule.EnvMasterPassword, fxmodule.EnvMasterService,
	fxmodule.EnvClusterNodes, fxmodule.EnvClusterUsername, fxmodule.EnvClusterPassword,
	fxmodule.EnvTLS, fxmodule.EnvTLSCAFile, fxmodule.EnvTLSInsecureSkipVerify,
	fxmodule.EnvDialTimeout, fxmodule.EnvReadTimeout, fxmodule.EnvWriteTimeout, fxmodule.EnvPoolSize,
	fxmodule.EnvTrackingPoolSize, fxmodule.EnvDisableContextTimeout,
	fxmodule.EnvTelemetrySiteLimit, fxmodule.EnvTelemetryHitSpans, fxmodule.EnvTelemetryKeyAttributes,
	fxmodule.EnvCommandSpans,
}

// setEnv clears every variable ConfigFromEnv reads, then sets vars.
func setEnv(t *testing.T, vars map[string]string) {
	t.Helper()
	for _, name := range allEnv {
		t.Setenv(name, "")
	}
	for name, v := range vars {
		t.Setenv(name, v)
	}
}

func wantProblems(t *testing.T, err error, want ...string) {
	t.Helper()
	if !errors.Is(err, domain.ErrInvalidArgument) {
		t.Fatalf("err = %v, want one matching ErrInvalidArgument", err)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not mention %q:\n%v", w, err)
		}
	}
}

func TestConfigFromEnv(t *testing.T) {
	setEnv(t, map[string]string{
		fxmodule.EnvBackend:                " Sentinel ",
		fxmodule.EnvSite:                   "site1.local",
		fxmodule.EnvRedisCache:             "redis://127.0.0.1:13000",
		fxmodule.EnvSentinelEnabled:        "yes",
		fxmodule.EnvSentinels:              "10.0.0.5:26379, [::1]:26379 ,sentinel-3:26379",
		fxmodule.EnvSentinelUsername:       "sentinel-user",
		fxmodule.EnvSentinelPassword:       " spaced secret ",
		fxmodule.EnvMasterUsername:         "master-user",
		fxmodule.EnvMasterPassword:         "master-secret",
		fxmodule.EnvMasterService:          "mymaster",
		fxmodule.EnvClusterNodes:           " 10.0.0.7:6379,[fd00::8]:6379",
		fxmodule.EnvClusterUsername:        "cluster-user",
		fxmodule.EnvClusterPassword:        "cluster secret ",
		fxmodule.EnvTLS:                    "TRUE",
		fxmodule.EnvTLSCAFile:              "/etc/ssl/redis-ca.pem",
		fxmodule.EnvTLSInsecureSkipVerify:  "0",
		fxmodule.EnvDialTimeout:            "750ms",
		fxmodule.EnvReadTimeout:            "2s",
		fxmodule.EnvWriteTimeout:           "1m",
		fxmodule.EnvPoolSize:               "32",
		fxmodule.EnvTrackingPoolSize:       "6",
		fxmodule.EnvDisableContextTimeout:  "yes",
		fxmodule.EnvTelemetrySiteLimit:     "-1",
		fxmodule.EnvTelemetryHitSpans:      "on",
		fxmodule.EnvTelemetryKeyAttributes: "true",
		fxmodule.EnvCommandSpans:           "1",
	})
	got, err := fxmodule.ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	want := fxmodule.Config{
		Backend:               "sentinel",
		Site:                  "site1.local",
		RedisCache:            "redis://127.0.0.1:13000",
		SentinelEnabled:       true,
		Sentinels:             []string{"10.0.0.5:26379", "[::1]:26379", "sentinel-3:26379"},
		SentinelUsername:      "sentinel-user",
		SentinelPassword:      " spaced secret ",
		MasterUsername:        "master-user",
		MasterPassword:        "master-secret",
		MasterService:         "mymaster",
		ClusterNodes:          []string{"10.0.0.7:6379", "[fd00::8]:6379"},
		ClusterUsername:       "cluster-user",
		ClusterPassword:       "cluster secret ",
		TLS:                   true,
		TLSCAFile:             "/etc/ssl/redis-ca.pem",
		TLSInsecureSkipVerify: false,
		DialTimeout:           750 * time.Millisecond,
		ReadTimeout:           2 * time.Second,
		WriteTimeout:          time.Minute,
		PoolSize:              32,
		TrackingPoolSize:      6,
		DisableContextTimeout: true,

		TelemetrySiteLimit:     -1,
		TelemetryHitSpans:      true,
		TelemetryKeyAttributes: true,
		CommandSpans:           true,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ConfigFromEnv =\n%+v\nwant\n%+v", got, want)
	}

	setEnv(t, nil)
	got, err = fxmodule.ConfigFromEnv()
	if err != nil || !reflect.DeepEqual(got, fxmodule.Config{}) {
		t.Errorf("ConfigFromEnv with nothing set = %+v, %v; want the zero Config", got, err)
	}
}

func TestConfigFromEnvErrors(t *testing.T) {
	setEnv(t, map[string]string{
		fxmodule.EnvSentinelEnabled:       "maybe",
		fxmodule.EnvTLS:                   "2",
		fxmodule.EnvTLSInsecureSkipVerify: "sure",
		fxmodule.EnvSentinels:             "a:1,,b:2",
		fxmodule.EnvClusterNodes:          ",a:1",
		fxmodule.EnvDialTimeout:           "5",
		fxmodule.EnvReadTimeout:           "soon",
		fxmodule.EnvWriteTimeout:          "-",
		fxmodule.EnvPoolSize:              "ten",
		fxmodule.EnvSentinelPassword:      "s3cret",
	})
	_, err := fxmodule.ConfigFromEnv()
	wantProblems(t, err,
		"REDIS_CACHE_SENTINEL_ENABLED: \"maybe\" is not a boolean",
		"REDISCACHE_TLS: \"2\" is not a boolean",
		"REDISCACHE_TLS_INSECURE_SKIP_VERIFY",
		"REDIS_CACHE_SENTINELS: entry 2 is empty",
		"REDIS_CACHE_CLUSTER_NODES: entry 1 is empty",
		"REDISCACHE_DIAL_TIMEOUT: \"5\" is not a duration",
		"REDISCACHE_READ_TIMEOUT", "REDISCACHE_WRITE_TIMEOUT",
		"REDISCACHE_POOL_SIZE: \"ten\" is not an integer")
	if n := strings.Count(err.Error(), "\n") + 1; n != 9 {
		t.Errorf("%d problems reported, want 9:\n%v", n, err)
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error reveals the password:\n%v", err)
	}
}

func TestValidate(t *testing.T) {
	// Frappe's from_url(None): a clear error instead.
	wantProblems(t, fxmodule.Config{}.Validate(), "redis_cache (REDIS_CACHE) is not set")
	if err := (fxmodule.Config{Backend: fxmodule.BackendMemory}).Validate(); err != nil {
		t.Errorf("memory: %v", err)
	}
	if err := (fxmodule.Config{RedisCache: "redis://127.0.0.1:6379/2"}).Validate(); err != nil {
		t.Errorf("standalone: %v", err)
	}
	good := fxmodule.Config{SentinelEnabled: true, Sentinels: []string{"[::1]:26379", "h:1"}, MasterService: "m"}
	if err := good.Validate(); err != nil {
		t.Errorf("sentinel: %v", err)
	}

	if err := (fxmodule.Config{ClusterNodes: []string{"[::1]:7000", "h:7001"}, RedisCache: "redis://ignored"}).Validate(); err != nil {
		t.Errorf("cluster: %v", err)
	}

	const secret = "hunter2"
	err := fxmodule.Config{
		Backend:          "ring",
		Site:             "a|b",
		DialTimeout:      -1,
		ReadTimeout:      -1,
		WriteTimeout:     -1,
		PoolSize:         -1,
		SentinelPassword: secret,
	}.Validate()
	wantProblems(t, err, `Backend (REDISCACHE_BACKEND) "ring"`, "db_name (REDISCACHE_SITE)", `contains "|"`,
		"REDISCACHE_DIAL_TIMEOUT", "REDISCACHE_READ_TIMEOUT", "REDISCACHE_WRITE_TIMEOUT", "REDISCACHE_POOL_SIZE")

	err = fxmodule.Config{
		SentinelEnabled:  true,
		Sentinels:        []string{"::1:26379", "host", "host:0", "ok:26379"},
		SentinelUsername: "u",
		MasterUsername:   "v",
		MasterPassword:   "",
	}.Validate()
	wantProblems(t, err,
		"redis_cache_sentinels (REDIS_CACHE_SENTINELS) entry 1", "IPv6", "entry 2", "entry 3",
		"redis_cache_master_service (REDIS_CACHE_MASTER_SERVICE) is not set",
		"redis_cache_sentinel_username (REDIS_CACHE_SENTINEL_USERNAME) is set without",
		"redis_cache_master_username (REDIS_CACHE_MASTER_USERNAME) is set without")
	if strings.Contains(err.Error(), "entry 4") {
		t.Errorf("a good address is reported:\n%v", err)
	}
	wantProblems(t, fxmodule.Config{Backend: fxmodule.BackendSentinel}.Validate(),
		"redis_cache_sentinels (REDIS_CACHE_SENTINELS) is empty")

	err = fxmodule.Config{
		Backend:         fxmodule.BackendCluster,
		ClusterNodes:    []string{"ok:7000", "::1:7000", "host"},
		ClusterUsername: "u",
		SentinelEnabled: true,
	}.Validate()
	wantProblems(t, err,
		"ClusterNodes (REDIS_CACHE_CLUSTER_NODES) entry 2", "IPv6", "entry 3",
		"ClusterUsername (REDIS_CACHE_CLUSTER_USERNAME) is set without ClusterPassword",
		"is cluster but redis_cache_sentinel_enabled")
	if strings.Contains(err.Error(), "entry 1") {
		t.Errorf("a good address is reported:\n%v", err)
	}
	wantProblems(t, fxmodule.Config{Backend: fxmodule.BackendCluster}.Validate(),
		"ClusterNodes (REDIS_CACHE_CLUSTER_NODES) is empty")
	wantProblems(t, fxmodule.Config{SentinelEnabled: true, ClusterNodes: []string{"h:1"}}.Validate(),
		"REDIS_CACHE_SENTINEL_ENABLED) is true and ClusterNodes (REDIS_CACHE_CLUSTER_NODES) is set: choose one")
	wantProblems(t, fxmodule.Config{Backend: fxmodule.BackendStandalone, SentinelEnabled: true, RedisCache: "redis://h"}.Validate(),
		"is standalone but redis_cache_sentinel_enabled")

	// A raw '%' in a password is legitimate (connection.ParseURL).
	if err := (fxmodule.Config{RedisCache: "redis://:" + secret + "%zz@h"}).Validate(); err != nil {
		t.Errorf("a password with a raw %%: %v", err)
	}
	for _, u := range []string{"http://h", "redis://:" + secret + "@h:port", "redis://:" + secret + "@h/x/y", "redis://:" + secret + "@h?bogus=1"} {
		err := fxmodule.Config{RedisCache: u}.Validate()
		wantProblems(t, err, "redis_cache (REDIS_CACHE)")
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error for a bad redis_cache reveals the password:\n%v", err)
		}
	}

	err = fxmodule.Config{RedisCache: "redis://h", TLSCAFile: filepath.Join(t.TempDir(), "missing.pem")}.Validate()
	wantProblems(t, err, "TLSCAFile (REDISCACHE_TLS_CA_FILE)")
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	wantProblems(t, fxmodule.Config{RedisCache: "redis://h", TLSCAFile: notPEM}.Validate(), "holds no PEM certificate")
	if err := (fxmodule.Config{RedisCache: "redis://h", TLSCAFile: writeCA(t)}).Validate(); err != nil {
		t.Errorf("a good CA file: %v", err)
	}
}

// writeCA writes a self-signed CA certificate and returns its path.
func writeCA(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

func TestNewBackend(t *testing.T) {
	ctx := context.Background()

	_, err := fxmodule.NewBackend(fxmodule.Config{}, nil)
	wantProblems(t, err, "redis_cache (REDIS_CACHE) is not set")

	mem, err := fxmodule.NewBackend(fxmodule.Config{Backend: fxmodule.BackendMemory}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if mem.Name != fxmodule.BackendMemory || mem.Store == nil {
		t.Errorf("memory backend: %+v", mem)
	}
	if err := mem.Pinger.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	if err := mem.Store.Set(ctx, "k", []byte("v"), 0); err != nil {
		t.Fatal(err)
	}
	if err := mem.Close(); err != nil {
		t.Fatal(err)
	}
	if err := mem.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	// Redis backends connect lazily: New succeeds, Ping says why not.
	const secret = "s3cret-pw"
	addr := closedAddr(t)
	st, err := fxmodule.NewBackend(fxmodule.Config{RedisCache: "redis://:" + secret + "@" + addr, DialTimeout: 200 * time.Millisecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if st.Name != fxmodule.BackendStandalone || st.Store == nil {
		t.Errorf("standalone backend: %+v", st)
	}
	err = st.Pinger.Ping(ctx)
	if !errors.Is(err, domain.ErrUnavailable) || !strings.Contains(err.Error(), addr) || strings.Contains(err.Error(), secret) {
		t.Errorf("standalone Ping = %v; want ErrUnavailable naming %s, without the password", err, addr)
	}

	sentinels := []string{closedAddr(t), "[::1]:1"}
	sn, err := fxmodule.NewBackend(fxmodule.Config{
		RedisCache:       "redis://ignored:6379",
		SentinelEnabled:  true,
		Sentinels:        sentinels,
		MasterService:    "mymaster",
		SentinelPassword: secret,
		MasterPassword:   secret,
		DialTimeout:      200 * time.Millisecond,
		ReadTimeout:      200 * time.Millisecond,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sn.Close()
	if sn.Name != fxmodule.BackendSentinel || sn.Store == nil {
		t.Errorf("sentinel backend: %+v", sn)
	}
	start := time.Now()
	err = sn.Pinger.Ping(ctx)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("sentinel Ping took %v", d)
	}
	if !errors.Is(err, domain.ErrUnavailable) || !strings.Contains(err.Error(), "no sentinel reachable") ||
		!strings.Contains(err.Error(), sentinels[0]) || !strings.Contains(err.Error(), "[::1]:1") ||
		strings.Contains(err.Error(), secret) {
		t.Errorf("sentinel Ping = %v", err)
	}

	// ClusterNodes alone select the cluster, whatever RedisCache says.
	nodes := []string{closedAddr(t), closedAddr(t)}
	cl, err := fxmodule.NewBackend(fxmodule.Config{
		RedisCache:      "redis://ignored:6379",
		ClusterNodes:    nodes,
		ClusterPassword: secret,
		DialTimeout:     200 * time.Millisecond,
		ReadTimeout:     200 * time.Millisecond,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if cl.Name != fxmodule.BackendCluster || cl.Store.Tracking() {
		t.Errorf("cluster backend: %+v", cl)
	}
	start = time.Now()
	err = cl.Pinger.Ping(ctx)
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("cluster Ping took %v", d)
	}
	if !errors.Is(err, domain.ErrUnavailable) || !strings.Contains(err.Error(), "no cluster node reachable") ||
		!strings.Contains(err.Error(), nodes[0]) || !strings.Contains(err.Error(), nodes[1]) ||
		strings.Contains(err.Error(), secret) {
		t.Errorf("cluster Ping = %v", err)
	}

	// An explicit backend needs no SentinelEnabled.
	sn2, err := fxmodule.NewBackend(fxmodule.Config{Backend: "sentinel", Sentinels: sentinels, MasterService: "m"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer sn2.Close()
	if sn2.Name != fxmodule.BackendSentinel {
		t.Errorf("Name = %q", sn2.Name)
	}
}
