package domain

// maxGlobNesting is the recursion limit Redis puts on '*' ("protection
// against abusive patterns"): deeper matches fail.
const maxGlobNesting = 1000

// MatchGlob reports whether s matches the Redis glob pattern, exactly as
// Redis' stringmatchlen (src/util.c) does for SCAN MATCH and KEYS, case
// sensitively. It is the rule the in-memory adapter lists keys with, and the
// one EscapeGlob and KeyPattern are checked against:
//
//   - '*' matches any run of bytes and '?' any single byte;
//   - '[abc]', '[^abc]' and ranges '[a-z]' (a reversed range '[z-a]' is the
//     same range) match one byte; '\' escapes the next byte inside brackets;
//     an unclosed '[' ends the set at the end of the pattern;
//   - '\x' outside brackets matches x literally; a trailing '\' matches a
//     backslash;
//   - a non-empty pattern never matches the empty string except through
//     trailing stars following matched text ("*" does not match "");
//   - bytes are compared as C's signed char on amd64, which only matters for
//     ranges that mix bytes below and above 0x80;
//   - more than 1000 nested '*' groups never match.
//
// The code follows the C function line by line, with indexes in place of
// pointers, so that its corner cases (bounds of unclosed sets, ranges ending
// in ']') behave the same.
func MatchGlob(pattern, s string) bool {
	skipLonger := false
	return matchGlobAt(pattern, 0, s, 0, &skipLonger, 0)
}

// matchGlobAt matches pat[pi:] against str[si:]. skipLonger is Redis'
// early-exit flag: once the rest of a pattern after a '*' matched nowhere in
// the remaining string, no enclosing '*' can help by eating more bytes.
func matchGlobAt(pat string, pi int, str string, si int, skipLonger *bool, nesting int) bool {
	if nesting > maxGlobNesting {
		return false
	}
	pl, sl := len(pat), len(str)
loop:
	for pi < pl && si < sl {
		switch pat[pi] {
		case '*':
			for pi+1 < pl && pat[pi+1] == '*' {
				pi++
			}
			if pi == pl-1 {
				return true
			}
			for si < sl {
				if matchGlobAt(pat, pi+1, str, si, skipLonger, nesting+1) {
					return true
				}
				if *skipLonger {
					return false
				}
				si++
			}
			*skipLonger = true
			return false
		case '?':
			si++
		case '[':
			pi++
			not := pi < pl && pat[pi] == '^'
			if not {
				pi++
			}
			match := false
			for {
				if pi+1 < pl && pat[pi] == '\\' {
					pi++
					if pat[pi] == str[si] {
						match = true
					}
				} else if pi < pl && pat[pi] == ']' {
					break
				} else if pi >= pl {
					// Unclosed set: step back so that the advance below
					// leaves pi at the end of the pattern.
					pi--
					break
				} else if pi+2 < pl && pat[pi+1] == '-' {
					start, end := signedByte(pat[pi]), signedByte(pat[pi+2])
					if start > end {
						start, end = end, start
					}
					c := signedByte(str[si])
					pi += 2
					if c >= start && c <= end {
						match = true
					}
				} else if pat[pi] == str[si] {
					match = true
				}
				pi++
			}
			if not {
				match = !match
			}
			if !match {
				return false
			}
			si++
		case '\\':
			if pi+1 < pl {
				pi++
			}
			if pat[pi] != str[si] {
				return false
			}
			si++
		default:
			if pat[pi] != str[si] {
				return false
			}
			si++
		}
		pi++
		if si == sl {
			for pi < pl && pat[pi] == '*' {
				pi++
			}
			break loop
		}
	}
	return pi == pl && si == sl
}

// signedByte is b as C's (signed) char on amd64.
func signedByte(b byte) int { return int(int8(b)) }
