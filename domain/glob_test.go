package domain_test

import (
	"strings"
	"testing"

	"github.com/rediscache/rediscache/domain"
)

// globTests are Redis' glob rules; the expectations were checked against
// redis-server 7.0.15 with SCAN MATCH.
var globTests = []struct {
	pattern, s string
	want       bool
}{
	// Literals, case sensitive.
	{"", "", true},
	{"", "a", false},
	{"abc", "abc", true},
	{"abc", "ABC", false},
	{"abc", "abcd", false},
	{"abcd", "abc", false},
	{"a|b", "a|b", true},

	// '*'.
	{"*", "anything", true},
	{"*", "", false}, // SCAN MATCH * skips the matcher, and so does Store.Scan
	{"**", "", false},
	{"a*", "a", true},
	{"a**", "a", true},
	{"a*", "abc", true},
	{"*c", "abc", true},
	{"*c", "abd", false},
	{"a*c", "ac", true},
	{"a*c", "abbbc", true},
	{"a*c", "abbbd", false},
	{"a*b*c", "a-b-c", true},
	{"a*b*c", "a-c-b", false},
	{"*a*a*a*", "aaa", true},
	{"*a*a*a*", "aa", false},
	{"site|*", "site|key", true},
	{"site|*", "site2|key", false},

	// '?'.
	{"?", "a", true},
	{"?", "", false},
	{"?", "ab", false},
	{"a?c", "abc", true},
	{"a?c", "ac", false},
	{"??", "\xff\x00", true},

	// Sets.
	{"[abc]", "b", true},
	{"[abc]", "d", false},
	{"[abc]", "", false},
	{"[^abc]", "d", true},
	{"[^abc]", "a", false},
	{"[a-c]", "b", true},
	{"[a-c]", "d", false},
	{"[c-a]", "b", true}, // reversed range
	{"[c-a]", "d", false},
	{"[a-]", "-", false}, // range 'a'..']' swallows the ']': the set is unclosed
	{"[a-]", "]", true},  // ']'..'a' contains ']' (0x5d) .. 'a' (0x61)
	{"[a-]", "^", true},  // 0x5e
	{"[a-]x", "x", true}, // ... so the x belongs to the set, and it matches one byte
	{"[a-]x", "ax", false},
	{"[]]", "]", false}, // "[]" is an empty set, then a literal ']'
	{"[]]", "]]", false},
	{"[\\]]", "]", true},
	{"[\\]]", "\\", false},
	{"[\\-]", "-", true},
	{"[\\a-c]", "b", false}, // escaped 'a', then '-', then 'c'
	{"[\\a-c]", "-", true},
	{"[\\a-c]", "c", true},
	{"[a\\]", "\\", false}, // "\]" escapes the ']': unclosed, "\" is not in the set
	{"[a\\]", "a", true},
	{"[a\\]", "]", true},
	{"[ab", "a", true}, // unclosed set
	{"[ab", "b", true},
	{"[ab", "c", false},
	{"[ab", "ab", false},
	{"[", "[", false},
	{"[", "a", false},
	{"[^", "x", true}, // unclosed negated empty set
	{"[^]", "x", true},
	{"[^]", "", false},
	{"[a-z0-9]", "5", true},
	{"[a-z0-9]", "A", false},
	{"x[\\", "x\\", true}, // trailing backslash inside an unclosed set
	{"[--0]", "/", true},
	{"[\x01-\xff]", "a", false}, // signed char: 0xff is -1, so the range is -1..1
	{"[\x01-\xff]", "\xff", true},
	{"[\x01-\xff]", "\x01", true},
	{"[a-\x80]", "\xff", true}, // -128..'a'
	{"[a-\x80]", "b", false},

	// Backslash outside sets.
	{"\\*", "*", true},
	{"\\*", "a", false},
	{"\\?", "?", true},
	{"\\?", "a", false},
	{"\\[a]", "[a]", true},
	{"\\a", "a", true},
	{"\\\\", "\\", true},
	{"a\\", "a\\", true}, // trailing backslash is a literal
	{"a\\", "a", false},
	{"\\", "\\", true},
}

func TestMatchGlob(t *testing.T) {
	for _, tt := range globTests {
		if got := domain.MatchGlob(tt.pattern, tt.s); got != tt.want {
			t.Errorf("MatchGlob(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestMatchGlobNesting(t *testing.T) {
	s := strings.Repeat("a", 1001)
	if !domain.MatchGlob(strings.Repeat("*a", 1000)+"*", s) {
		t.Error("1000 nested stars should match")
	}
	if domain.MatchGlob(strings.Repeat("*a", 1001)+"*", s) {
		t.Error("1001 nested stars should not match (Redis' nesting limit)")
	}
}

func TestMatchGlobPathological(t *testing.T) {
	// Exponential without Redis' skipLongerMatches shortcut.
	p := strings.Repeat("*a", 30) + "*b"
	if domain.MatchGlob(p, strings.Repeat("a", 200)) {
		t.Error("unexpected match")
	}
}

func TestMatchGlobEscape(t *testing.T) {
	for _, s := range []string{"a*b", "[x]", "a?b", `back\slash`, "site|user:*:", "^-]"} {
		p := domain.EscapeGlob(s)
		if !domain.MatchGlob(p, s) {
			t.Errorf("EscapeGlob(%q) = %q does not match it", s, p)
		}
		if domain.MatchGlob(p, s+"x") || domain.MatchGlob(p, "x"+s) {
			t.Errorf("EscapeGlob(%q) = %q matches more", s, p)
		}
	}
}

// FuzzMatchGlob checks MatchGlob against invariants of Redis' glob rules
// that hold for any input (the exact corner cases are pinned by globTests
// and by the table verified against a real server, glob_redis_test.go):
//
//   - it never panics (nor recurses without bound);
//   - EscapeGlob(x) matches x and nothing else; EscapeGlob(x)+"*" matches
//     exactly the strings starting with x, and "*"+EscapeGlob(x)+"*" those
//     containing it (the rules KeyPattern relies on);
//   - a pattern without '*', '?', '[' or '\' matches only itself;
//   - "*" matches every non-empty string and "?" every one-byte string;
//   - on patterns made of literals, '*' and '?', it agrees with a textbook
//     dynamic-programming glob matcher (Redis never matches the empty
//     string with a non-empty pattern).
//
// Run it longer with `go test -run '^$' -fuzz '^FuzzMatchGlob$' -fuzztime 10m
// ./domain/`.
func FuzzMatchGlob(f *testing.F) {
	for _, seed := range [][2]string{
		{"*", "a"}, {"[a-z]*", "key"}, {"[^", "x"}, {"\\", "\\"}, {"a*b?c[d-f]", "axxbycd"},
		{"[\\", "["}, {"[a-]", "b"}, {"site|*", "site|k"}, {"", ""}, {"*a*a*a*", "aaa"},
		{"s|user:u:*", "s|user:u:k"}, {"[\x01-\xff]", "\xff"}, {"a\\", "a\\"},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		_ = domain.MatchGlob(pattern, s)

		// EscapeGlob: exactly the literal, as a whole, as a prefix, inside.
		if !domain.MatchGlob(domain.EscapeGlob(s), s) {
			t.Fatalf("EscapeGlob(%q) does not match it", s)
		}
		if got, want := domain.MatchGlob(domain.EscapeGlob(pattern), s), pattern == s; got != want {
			t.Fatalf("MatchGlob(EscapeGlob(%q), %q) = %v, want %v", pattern, s, got, want)
		}
		if got, want := domain.MatchGlob(domain.EscapeGlob(pattern)+"*", s), s != "" && strings.HasPrefix(s, pattern); got != want {
			t.Fatalf("MatchGlob(EscapeGlob(%q)+\"*\", %q) = %v, want %v", pattern, s, got, want)
		}
		if got, want := domain.MatchGlob("*"+domain.EscapeGlob(pattern)+"*", s), s != "" && strings.Contains(s, pattern); got != want {
			t.Fatalf("MatchGlob(\"*\"+EscapeGlob(%q)+\"*\", %q) = %v, want %v", pattern, s, got, want)
		}

		// Literal patterns and the two wildcards alone.
		if !strings.ContainsAny(pattern, `*?[\`) {
			if got := domain.MatchGlob(pattern, s); got != (pattern == s) {
				t.Fatalf("MatchGlob(%q, %q) = %v for a literal pattern", pattern, s, got)
			}
		}
		if got := domain.MatchGlob("*", s); got != (s != "") {
			t.Fatalf("MatchGlob(\"*\", %q) = %v", s, got)
		}
		if got := domain.MatchGlob("?", s); got != (len(s) == 1) {
			t.Fatalf("MatchGlob(\"?\", %q) = %v", s, got)
		}

		// Stars and question marks only: a textbook matcher.
		simple := strings.Map(func(r rune) rune {
			switch r {
			case '[':
				return '('
			case '\\':
				return '/'
			}
			return r
		}, pattern)
		if strings.Count(simple, "*") <= 1000 {
			if got, want := domain.MatchGlob(simple, s), textbookGlob(simple, s); got != want {
				t.Fatalf("MatchGlob(%q, %q) = %v, textbook glob says %v", simple, s, got, want)
			}
		}
	})
}

// textbookGlob matches s against a pattern of literal bytes, '*' (any run of
// bytes) and '?' (one byte) by dynamic programming, except that, as in
// Redis, the empty string only matches the empty pattern.
func textbookGlob(p, s string) bool {
	if s == "" {
		return p == ""
	}
	// m[j]: p[:i] matches s[:j], for the current i.
	m := make([]bool, len(s)+1)
	m[0] = true
	for i := 0; i < len(p); i++ {
		next := make([]bool, len(s)+1)
		switch p[i] {
		case '*':
			next[0] = m[0]
			for j := 1; j <= len(s); j++ {
				next[j] = m[j] || next[j-1]
			}
		case '?':
			for j := 1; j <= len(s); j++ {
				next[j] = m[j-1]
			}
		default:
			for j := 1; j <= len(s); j++ {
				next[j] = m[j-1] && s[j-1] == p[i]
			}
		}
		m = next
	}
	return m[len(s)]
}
