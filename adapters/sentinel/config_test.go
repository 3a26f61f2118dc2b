package sentinel

import (
	"crypto/tls"
	"github.com/rediscache/rediscache/adapters/connection"
	"slices"
	"testing"
	"time"
)

func TestOptions(t *testing.T) {
	tlsCfg := &tls.Config{ServerName: "example", MinVersion: tls.VersionTLS13}
	fo, err := Config{
		MasterName:       "mymaster",
		SentinelAddrs:    []string{"10.0.0.1:26379", "[::1]:026379", "10.0.0.1:26379"},
		SentinelUsername: "su",
		SentinelPassword: "sp",
		DB:               3,
		Connection:       connection.Options{Username: "mu", Password: "mp", TLS: tlsCfg, ReadTimeout: time.Second, PoolSize: 7, MaxRetries: -1},
	}.options()
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"MasterName", fo.MasterName, "mymaster"},
		{"SentinelUsername", fo.SentinelUsername, "su"},
		{"SentinelPassword", fo.SentinelPassword, "sp"},
		{"Username", fo.Username, "mu"},
		{"Password", fo.Password, "mp"},
		{"DB", fo.DB, 3},
		{"TLSConfig", fo.TLSConfig, tlsCfg},
		{"DialTimeout", fo.DialTimeout, connection.DefaultDialTimeout},
		{"ReadTimeout", fo.ReadTimeout, time.Second},
		{"WriteTimeout", fo.WriteTimeout, connection.DefaultWriteTimeout},
		{"PoolSize", fo.PoolSize, 7},
		{"MaxRetries", fo.MaxRetries, -1},
		{"Protocol", fo.Protocol, connection.DefaultProtocol},
		{"DialerRetries", fo.DialerRetries, 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	// Normalised and deduplicated, in order.
	if want := []string{"10.0.0.1:26379", "[::1]:26379"}; !slices.Equal(fo.SentinelAddrs, want) {
		t.Errorf("SentinelAddrs = %q, want %q", fo.SentinelAddrs, want)
	}
}
