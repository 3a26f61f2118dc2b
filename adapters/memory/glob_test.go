package memory

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
		if got := matchGlob(tt.pattern, tt.s); got != tt.want {
			t.Errorf("matchGlob(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestMatchGlobNesting(t *testing.T) {
	s := strings.Repeat("a", 1001)
	if !matchGlob(strings.Repeat("*a", 1000)+"*", s) {
		t.Error("1000 nested stars should match")
	}
	if matchGlob(strings.Repeat("*a", 1001)+"*", s) {
		t.Error("1001 nested stars should not match (Redis' nesting limit)")
	}
}

func TestMatchGlobPathological(t *testing.T) {
	// Exponential without Redis' skipLongerMatches shortcut.
	p := strings.Repeat("*a", 30) + "*b"
	if matchGlob(p, strings.Repeat("a", 200)) {
		t.Error("unexpected match")
	}
}

func TestMatchGlobEscape(t *testing.T) {
	for _, s := range []string{"a*b", "[x]", "a?b", `back\slash`, "site|user:*:", "^-]"} {
		p := domain.EscapeGlob(s)
		if !matchGlob(p, s) {
			t.Errorf("EscapeGlob(%q) = %q does not match it", s, p)
		}
		if matchGlob(p, s+"x") || matchGlob(p, "x"+s) {
			t.Errorf("EscapeGlob(%q) = %q matches more", s, p)
		}
	}
}

func FuzzMatchGlob(f *testing.F) {
	for _, seed := range [][2]string{
		{"*", "a"}, {"[a-z]*", "key"}, {"[^", "x"}, {"\\", "\\"}, {"a*b?c[d-f]", "axxbycd"},
		{"[\\", "["}, {"[a-]", "b"}, {"site|*", "site|k"}, {"", ""},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		_ = matchGlob(pattern, s)
		if !matchGlob(domain.EscapeGlob(s), s) {
			t.Fatalf("EscapeGlob(%q) does not match it", s)
		}
		if pattern != s && matchGlob(domain.EscapeGlob(pattern), s) {
			t.Fatalf("EscapeGlob(%q) matches %q", pattern, s)
		}
	})
}
