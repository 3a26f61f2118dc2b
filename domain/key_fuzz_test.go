package domain_test

import (
	"strings"
	"testing"

	"github.com/rediscache/rediscache/domain"
)

// FuzzKeyIsolation checks that the key model keeps sites apart whatever the
// names: for two different valid sites A and B, no key MakeKey makes for B
// (site scope or user scope) is listed by any KeyPattern of A (SCAN MATCH
// semantics, domain.MatchGlob) or accepted by any TrimKey of A, and no key
// of any site's shared scope is accepted by a site or user scope. As a
// control, B's own pattern lists and B's own TrimKey gives back each key.
//
// Run it longer with `go test -run '^$' -fuzz '^FuzzKeyIsolation$' -fuzztime
// 10m ./domain/`.
func FuzzKeyIsolation(f *testing.F) {
	for _, seed := range [][5]string{
		{"site1", "site2", "alice", "key", ""},
		{"a", "ab", "u", "k", "*"},
		{"ab", "a", "u", "b|k", "?"},
		{"s*", "s", "u", "k", "[^x]"},
		{"s", "s*", "", "k", "\\"},
		{"[a]", "a", "x", "k", "["},
		{"a\\", "a", "u]", "k", "*|*"},
		{"s", "s:user", "u", "x", "user:*"},
		{"s", "t", "u", "user:u:k", "user:u:"},
		{"site.example.com", "site.example.co", "admin@example.com", "doc::1", "doc*"},
		{"\xff", "\xfe", "\x80", "\x00", "[\x80-\xff]*"},
	} {
		f.Add(seed[0], seed[1], seed[2], seed[3], seed[4])
	}
	f.Fuzz(func(t *testing.T, siteA, siteB, user, key, prefix string) {
		if siteA == siteB || domain.ValidateSite(siteA) != nil || domain.ValidateSite(siteB) != nil {
			t.Skip()
		}
		scopes := []domain.Scope{{}}
		if user != "" && domain.ValidateUser(user) == nil {
			scopes = append(scopes, domain.Scope{User: user})
		}

		// A's patterns, for every scope it has (shared included).
		type listing struct {
			scope   domain.Scope
			pattern string
		}
		var listings []listing
		for _, sc := range append(scopes, domain.Scope{Shared: true}) {
			p, err := domain.KeyPattern(siteA, prefix, sc)
			if err != nil {
				continue // a prefix too long: nothing to list
			}
			listings = append(listings, listing{sc, p})
		}

		for _, scB := range scopes {
			kB, err := domain.MakeKey(siteB, key, scB)
			if err != nil {
				continue // empty or too long a key
			}
			// Control: B lists and trims its own key.
			if own, err := domain.KeyPattern(siteB, "", scB); err != nil || !domain.MatchGlob(own, kB) {
				t.Fatalf("KeyPattern(%q, \"\", %+v) = %q, %v does not list B's own key %q", siteB, scB, own, err, kB)
			}
			if k, ok := domain.TrimKey(siteB, kB, scB); !ok || k != key {
				t.Fatalf("TrimKey(%q, %q, %+v) = %q, %v; want %q, true", siteB, kB, scB, k, ok, key)
			}
			for _, l := range listings {
				if !l.scope.Shared && domain.MatchGlob(l.pattern, kB) {
					t.Fatalf("KeyPattern(%q, %q, %+v) = %q lists %q, made for site %q with %+v",
						siteA, prefix, l.scope, l.pattern, kB, siteB, scB)
				}
				// A shared pattern may list site keys; TrimKey must drop
				// them, and every scope of A must drop B's keys.
				if k, ok := domain.TrimKey(siteA, kB, l.scope); ok {
					t.Fatalf("TrimKey(%q, %q, %+v) = %q, true for a key made for site %q with %+v",
						siteA, kB, l.scope, k, siteB, scB)
				}
			}
		}

		// Shared keys belong to no site: no site or user scope of either
		// site accepts one, and they never contain the separator.
		kS, err := domain.MakeKey(siteB, key, domain.Scope{Shared: true})
		if err != nil {
			return
		}
		if strings.Contains(kS, domain.SiteSeparator) || !domain.IsSharedKey(kS) {
			t.Fatalf("shared key %q contains %q", kS, domain.SiteSeparator)
		}
		for _, site := range []string{siteA, siteB} {
			for _, sc := range scopes {
				if k, ok := domain.TrimKey(site, kS, sc); ok {
					t.Fatalf("TrimKey(%q, %q, %+v) = %q, true for a shared key", site, kS, sc, k)
				}
				if p, err := domain.KeyPattern(site, prefix, sc); err == nil && domain.MatchGlob(p, kS) {
					t.Fatalf("KeyPattern(%q, %q, %+v) = %q lists the shared key %q", site, prefix, sc, p, kS)
				}
			}
		}
	})
}
