package standalone_test

import (
	"context"
	"crypto/tls"
	"errors"
	"github.com/rediscache/rediscache/adapters/connection"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/rediscache/rediscache/adapters/standalone"
	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/tests/redistest"
)

func newStore(t *testing.T, cfg standalone.Config) *standalone.Store {
	t.Helper()
	s, err := standalone.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func wantErr(t *testing.T, err, kind error) {
	t.Helper()
	if !errors.Is(err, kind) {
		t.Fatalf("err = %v, want one matching %v", err, kind)
	}
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// options returns the go-redis options a store was built with.
func options(t *testing.T, s *standalone.Store) *redis.Options {
	t.Helper()
	c, ok := s.Client().(*redis.Client)
	if !ok {
		t.Fatalf("Client() is a %T, want *redis.Client", s.Client())
	}
	return c.Options()
}

func TestBasics(t *testing.T) {
	ctx := context.Background()
	srv := redistest.StartServer(t)
	s := newStore(t, standalone.Config{Addr: srv.Addr()})

	noErr(t, s.Ping(ctx))
	_, err := s.Get(ctx, "missing")
	wantErr(t, err, domain.ErrNotFound)

	noErr(t, s.Set(ctx, "k", []byte("v"), 0))
	v, err := s.Get(ctx, "k")
	noErr(t, err)
	if string(v) != "v" {
		t.Fatalf("Get = %q", v)
	}

	_, err = s.LPush(ctx, "k", "x")
	wantErr(t, err, domain.ErrWrongType)

	noErr(t, s.Set(ctx, "t", []byte("v"), 2*time.Second))
	ttl, err := s.TTL(ctx, "t")
	noErr(t, err)
	if ttl <= time.Second || ttl > 2*time.Second {
		t.Fatalf("TTL = %v, want about 2s", ttl)
	}
	ttl, err = s.TTL(ctx, "k")
	noErr(t, err)
	if ttl != domain.NoExpiry {
		t.Fatalf("TTL of a persistent key = %v", ttl)
	}
	_, err = s.TTL(ctx, "missing")
	wantErr(t, err, domain.ErrNotFound)

	for i := range 250 {
		noErr(t, s.Set(ctx, "site|"+strconv.Itoa(i), nil, 0))
	}
	var keys []string
	noErr(t, s.Scan(ctx, "site|*", 0, func(batch []string) error {
		keys = append(keys, batch...)
		return nil
	}))
	if len(keys) != 250 {
		t.Fatalf("Scan found %d keys, want 250", len(keys))
	}
	slices.Sort(keys)
	if len(slices.Compact(keys)) != 250 {
		t.Fatal("Scan reported a key twice")
	}

	// Defaults: RESP2 and the documented timeouts.
	o := options(t, s)
	if o.Protocol != 2 || o.DialTimeout != connection.DefaultDialTimeout ||
		o.ReadTimeout != connection.DefaultReadTimeout || o.WriteTimeout != connection.DefaultWriteTimeout {
		t.Fatalf("defaults not applied: protocol %d, timeouts %v %v %v", o.Protocol, o.DialTimeout, o.ReadTimeout, o.WriteTimeout)
	}

	noErr(t, s.Close())
	noErr(t, s.Close())
	_, err = s.Get(ctx, "k")
	wantErr(t, err, domain.ErrClosed)
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	noErr(t, err)
	addr := ln.Addr().String()
	noErr(t, ln.Close())
	return addr
}

func TestUnreachable(t *testing.T) {
	ctx := context.Background()
	addr := closedAddr(t)
	const dialTimeout = 200 * time.Millisecond
	s := newStore(t, standalone.Config{Addr: addr, Connection: connection.Options{DialTimeout: dialTimeout}})

	// Every attempt is refused at once; with the retries and their
	// backoff a call must still end well within (MaxRetries+1) × DialTimeout.
	const bound = 4 * dialTimeout
	start := time.Now()
	err := s.Ping(ctx)
	if d := time.Since(start); d > bound {
		t.Fatalf("Ping took %v, want < %v", d, bound)
	}
	wantErr(t, err, domain.ErrUnavailable)
	if !strings.Contains(err.Error(), "ping "+addr+":") {
		t.Fatalf("Ping error %q does not name %s", err, addr)
	}

	for range 3 {
		start = time.Now()
		_, err = s.Get(ctx, "k")
		if d := time.Since(start); d > bound {
			t.Fatalf("Get took %v, want < %v", d, bound)
		}
		wantErr(t, err, domain.ErrUnavailable)
	}
	_, err = s.HDelBatch(ctx, nil)
	noErr(t, err) // nothing to send
	err = s.Scan(ctx, "*", 0, func([]string) error { return nil })
	wantErr(t, err, domain.ErrUnavailable)

	// A caller's deadline wins over the retries.
	dctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = s.Get(dctx, "k")
	if d := time.Since(start); d > bound {
		t.Fatalf("Get with a deadline took %v", d)
	}
	if !errors.Is(err, domain.ErrUnavailable) && !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Get with a deadline: %v", err)
	}
}

func TestUnixSocketURL(t *testing.T) {
	ctx := context.Background()
	sock := filepath.Join(t.TempDir(), "redis.sock")
	srv := redistest.StartServer(t, redistest.WithArgs("--unixsocket", sock, "--unixsocketperm", "700"))

	s, err := standalone.NewFromURL("unix://" + sock + "?db=3")
	noErr(t, err)
	t.Cleanup(func() { _ = s.Close() })
	noErr(t, s.Ping(ctx))
	noErr(t, s.Set(ctx, "k", []byte("over unix"), 0))
	v, err := s.Get(ctx, "k")
	noErr(t, err)
	if string(v) != "over unix" {
		t.Fatalf("Get = %q", v)
	}
	if o := options(t, s); o.Network != "unix" || o.DB != 3 {
		t.Fatalf("network %q db %d, want unix 3", o.Network, o.DB)
	}
	// The key went to database 3, not 0.
	if n, err := srv.Do("DBSIZE"); err != nil || n != "0" {
		t.Fatalf("DBSIZE of db 0 = %q, %v", n, err)
	}

	// Addr may also be a socket path.
	s2 := newStore(t, standalone.Config{Addr: sock, DB: 3})
	v, err = s2.Get(ctx, "k")
	noErr(t, err)
	if string(v) != "over unix" {
		t.Fatalf("Get via Addr = %q", v)
	}

	// A missing socket is unavailable, and Ping names it.
	s3 := newStore(t, standalone.Config{Addr: sock + ".missing", Connection: connection.Options{DialTimeout: 100 * time.Millisecond}})
	err = s3.Ping(ctx)
	wantErr(t, err, domain.ErrUnavailable)
	if !strings.Contains(err.Error(), "unix:"+sock+".missing") {
		t.Fatalf("Ping error %q does not name the socket", err)
	}
}

func TestPassword(t *testing.T) {
	ctx := context.Background()
	const pw = "s3cret-pw"
	srv := redistest.StartServer(t, redistest.WithPassword(pw))

	good := newStore(t, standalone.Config{Addr: srv.Addr(), Connection: connection.Options{Password: pw}})
	noErr(t, good.Ping(ctx))
	fromURL, err := standalone.NewFromURL(srv.URL())
	noErr(t, err)
	t.Cleanup(func() { _ = fromURL.Close() })
	noErr(t, fromURL.Set(ctx, "k", []byte("v"), 0))

	for name, cfg := range map[string]standalone.Config{
		"none":  {Addr: srv.Addr()},
		"wrong": {Addr: srv.Addr(), Connection: connection.Options{Password: "not-the-" + pw}},
		// An explicit field overrides the URL's password.
		"override": {URL: srv.URL(), Connection: connection.Options{Password: "not-the-" + pw}},
	} {
		t.Run(name, func(t *testing.T) {
			s := newStore(t, cfg)
			err := s.Ping(ctx)
			wantErr(t, err, domain.ErrUnavailable)
			if strings.Contains(err.Error(), pw) {
				t.Fatalf("error %q reveals the password", err)
			}
			if name != "none" && !strings.Contains(err.Error(), "authentication failed") {
				t.Fatalf("error %q does not say authentication failed", err)
			}
			_, err = s.Get(ctx, "k")
			wantErr(t, err, domain.ErrUnavailable)
		})
	}
}

func TestConfigMerge(t *testing.T) {
	s, err := standalone.New(standalone.Config{
		URL:        "redis://user:urlpw@10.0.0.1:6380/5?protocol=3&dial_timeout=7s&read_timeout=9s&pool_size=4&max_retries=2",
		Addr:       "127.0.0.1:7000",
		Connection: connection.Options{Password: "cfgpw", ReadTimeout: time.Second, PoolSize: 8, Protocol: 2, WriteTimeout: 0},
	})
	noErr(t, err)
	defer s.Close()
	o := options(t, s)
	checks := []struct {
		name      string
		got, want any
	}{
		{"Addr", o.Addr, "127.0.0.1:7000"},
		{"Username", o.Username, "user"},
		{"Password", o.Password, "cfgpw"},
		{"DB", o.DB, 5},
		{"Protocol", o.Protocol, 2},
		{"DialTimeout", o.DialTimeout, 7 * time.Second},
		{"ReadTimeout", o.ReadTimeout, time.Second},
		{"WriteTimeout", o.WriteTimeout, connection.DefaultWriteTimeout},
		{"PoolSize", o.PoolSize, 8},
		{"MaxRetries", o.MaxRetries, 2},
		{"DialerRetries", o.DialerRetries, 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}

	tlsCfg := &tls.Config{ServerName: "example", MinVersion: tls.VersionTLS13}
	s2, err := standalone.New(standalone.Config{URL: "rediss://example:6379", Connection: connection.Options{TLS: tlsCfg}})
	noErr(t, err)
	defer s2.Close()
	if options(t, s2).TLSConfig != tlsCfg {
		t.Error("TLS did not override the URL's TLS config")
	}

	s3, err := standalone.New(standalone.Config{})
	noErr(t, err)
	defer s3.Close()
	if o := options(t, s3); o.Addr != standalone.DefaultAddr {
		t.Errorf("default Addr = %q", o.Addr)
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (standalone.Config{}).Validate(); err != nil {
		t.Fatalf("zero Config: %v", err)
	}
	const secret = "hunter2%zz"
	bad := standalone.Config{
		URL:        "redis://user:" + secret + "@host:6379/notadb",
		DB:         -1,
		Connection: connection.Options{Password: "pw-" + secret, DialTimeout: -1, ReadTimeout: -1, WriteTimeout: -1, PoolSize: -1, MaxRetries: -2, Protocol: 4},
	}
	err := bad.Validate()
	wantErr(t, err, domain.ErrInvalidArgument)
	msg := err.Error()
	for _, want := range []string{"URL", "DialTimeout", "ReadTimeout", "WriteTimeout", "PoolSize", "MaxRetries", "DB", "Protocol"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Validate error does not mention %s:\n%s", want, msg)
		}
	}
	if strings.Contains(msg, "hunter2") || strings.Contains(msg, "%zz") {
		t.Errorf("Validate error reveals the password:\n%s", msg)
	}
	if _, err := standalone.New(bad); !errors.Is(err, domain.ErrInvalidArgument) {
		t.Errorf("New(bad) = %v", err)
	}

	for _, u := range []string{"http://host", "redis://host/notanumber", "redis://host?bogus=1", "unix://", "redis://:pw@host:port"} {
		_, err := standalone.NewFromURL(u)
		wantErr(t, err, domain.ErrInvalidArgument)
		if strings.Contains(err.Error(), ":pw@") {
			t.Errorf("error for %q quotes the user info: %v", u, err)
		}
	}
	// A URL's protocol is checked too.
	_, err = standalone.NewFromURL("redis://host?protocol=7")
	wantErr(t, err, domain.ErrInvalidArgument)
}
