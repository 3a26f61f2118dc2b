package connection_test

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"

	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"

	"github.com/rediscache/rediscache/adapters/connection"
	"github.com/rediscache/rediscache/tests/secrettest"
)

// TestParseURLPasswords checks that passwords as people paste them parse,
// raw or percent-encoded, in redis://, rediss:// and unix:// URLs.
func TestParseURLPasswords(t *testing.T) {
	passwords := []string{
		"Sup3rS3cret", "Sup3r/S3cret", "p#ss", "a?b", "x@y", "a:b", "50%off", "a&b=c+d",
		"with space", "ünïcödé", "/#?@:%&=+ ", "%zz", "trailing@",
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 200 {
		passwords = append(passwords, secrettest.Password(r))
	}
	for _, pw := range passwords {
		encoded := url.UserPassword("alice", pw).String()
		for _, u := range []struct{ url, addr string }{
			{"redis://alice:" + pw + "@cache.internal:6380/2", "cache.internal:6380"},
			{"rediss://alice:" + pw + "@cache.internal:6380/2", "cache.internal:6380"},
			{"redis://" + encoded + "@cache.internal:6380/2", "cache.internal:6380"},
			{"redis://alice:" + pw + "@[::1]:6380/2?dial_timeout=1s", "[::1]:6380"},
			{"unix://alice:" + pw + "@/run/redis.sock?db=2", "/run/redis.sock"},
		} {
			o, err := connection.ParseURL(u.url)
			if err != nil {
				t.Errorf("ParseURL with password %q: %v", pw, err)
				continue
			}
			if o.Username != "alice" || o.Password != pw || o.Addr != u.addr || o.DB != 2 {
				t.Errorf("ParseURL(%q) = user %q password %q addr %q db %d", u.url, o.Username, o.Password, o.Addr, o.DB)
			}
			if strings.HasPrefix(u.url, "rediss") != (o.TLSConfig != nil) {
				t.Errorf("ParseURL(%q): TLS %v", u.url, o.TLSConfig != nil)
			}
			if red := connection.RedactURL(u.url); secrettest.Leak(red, pw) != "" || !strings.Contains(red, "alice:"+connection.Redacted+"@") {
				t.Errorf("RedactURL(%q) = %q", u.url, red)
			}
		}
	}
	// Valid percent-encoding is decoded: write % as %25.
	if o, err := connection.ParseURL("redis://:ab%41@h"); err != nil || o.Password != "abA" {
		t.Errorf("ParseURL of an encoded password = %+v, %v", o, err)
	}
	// An '@' in the query of a URL without credentials is not one.
	if o, err := connection.ParseURL("redis://h:1/0?client_name=a@b"); err != nil || o.Addr != "h:1" || o.Password != "" {
		t.Errorf("ParseURL with an '@' in the query = %+v, %v", o, err)
	}
}

// TestParseURLErrorsHideTheSecret checks that a URL that cannot be used
// fails with a message naming the problem and no piece of the password.
func TestParseURLErrorsHideTheSecret(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for range 200 {
		pw := secrettest.Password(r)
		for _, c := range []struct{ url, problem string }{
			{"redis://:" + pw + "@host:port", "port"},
			{"redis://:" + pw + "@host/notadb", "database"},
			{"redis://:" + pw + "@host/1/2", "path"},
			{"redis://:" + pw + "@host?bogus=1", "bogus"},
			{"redis://:" + pw + "@host?dial_timeout=soon", "dial_timeout"},
			{"http://:" + pw + "@host", "scheme"},
			{"unix://:" + pw + "@", "socket path"},
		} {
			_, err := connection.ParseURL(c.url)
			if err == nil {
				t.Fatalf("ParseURL(%q) succeeded", c.url)
			}
			if !strings.Contains(err.Error(), c.problem) {
				t.Errorf("ParseURL error %q does not name %q", err, c.problem)
			}
			if leak := secrettest.Leak(err.Error(), pw); leak != "" {
				t.Errorf("ParseURL error %q shows %q of the password", err, leak)
			}
		}
	}
}

// TestOptionsRedacted checks every way of printing or logging Options.
func TestOptionsRedacted(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	pw := secrettest.Password(r)
	o := connection.Options{Username: "alice", Password: pw}
	core, logs := observer.New(zap.DebugLevel)
	zap.New(core).Info("options", zap.Object("o", o), zap.Any("any", o), zap.Stringer("s", o))
	texts := []string{fmt.Sprint(o), fmt.Sprintf("%v %+v %#v %s", o, o, o, o), fmt.Sprintf("%v %#v", &o, &o)}
	for _, e := range logs.All() {
		texts = append(texts, fmt.Sprint(e.ContextMap()))
	}
	for _, text := range texts {
		if leak := secrettest.Leak(text, pw); leak != "" {
			t.Errorf("%q shows %q of the password", text, leak)
		}
		if !strings.Contains(text, "alice") || !strings.Contains(text, connection.Redacted) {
			t.Errorf("%q does not show the user and that a password is set", text)
		}
	}
}
