package sitelimit

import "testing"

func TestLimiter(t *testing.T) {
	l := New("site", "_other", 2)
	for _, tc := range []struct{ site, want string }{{"a", "a"}, {"b", "b"}, {"c", "_other"}, {"a", "a"}} {
		set := l.Set(tc.site)
		if v, _ := set.Value("site"); v.AsString() != tc.want {
			t.Errorf("Set(%q) = %q, want %q", tc.site, v.AsString(), tc.want)
		}
	}
	if off := New("site", "_other", -1).Set("a"); off.Len() != 0 {
		t.Errorf("a negative limit gives %v, want no attribute", off)
	}
}

// Owners that are equal share a Limiter; an owner whose value cannot be
// hashed gets its own instead of panicking.
func TestShared(t *testing.T) {
	type owner struct{ name string }
	a, b := Shared(owner{"x"}, "site", "_other", 1), Shared(owner{"x"}, "site", "_other", 1)
	if a != b {
		t.Error("equal owners got different Limiters")
	}
	if Shared(owner{"y"}, "site", "_other", 1) == a {
		t.Error("different owners share a Limiter")
	}
	type holder struct{ v any } // comparable type; the value below is not
	if l := Shared(holder{v: []int{1}}, "site", "_other", 1); l == nil {
		t.Error("no Limiter for an unhashable owner")
	}
	if l := Shared(func() {}, "site", "_other", 1); l == nil {
		t.Error("no Limiter for an uncomparable owner")
	}
}
