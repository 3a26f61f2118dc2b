// Package secrettest generates passwords that break naive URL handling and
// finds any piece of one in text: for the property tests that no error,
// log line or formatted config shows a password.
package secrettest

import (
	"math/rand/v2"
	"strings"
	"unicode/utf8"
)

// Special are the ASCII characters that break a URL's user information
// when written as they are (and a space).
const Special = "/#?@:%&=+ "

// unicodeRunes never appear in this module's messages, which are ASCII.
var unicodeRunes = []rune("äöüßéèçñøå€中文字😀Ωλ")

// asciiRunes are the other characters of a password: the special ones
// weighed heavily, and alphanumerics.
var asciiRunes = []rune(Special + Special + Special + "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")

// Password returns a password of 12 to 24 runes holding every character of
// Special and at least one Unicode rune, where every other rune is a
// Unicode one: so every 4-rune piece holds two runes that cannot occur in
// an ASCII message by chance, and a piece found in a message is a leak.
func Password(r *rand.Rand) string {
	n := 12 + r.IntN(13)
	specials := []rune(Special)
	runes := make([]rune, 0, 2*len(specials)+n)
	for i := 0; len(runes) < n || len(specials) > 0; i++ {
		if i%2 == 1 {
			runes = append(runes, unicodeRunes[r.IntN(len(unicodeRunes))])
			continue
		}
		if len(specials) > 0 {
			j := r.IntN(len(specials))
			runes = append(runes, specials[j])
			specials = append(specials[:j], specials[j+1:]...)
			continue
		}
		runes = append(runes, asciiRunes[r.IntN(len(asciiRunes))])
	}
	return string(runes)
}

// Pieces returns the password and every 4-rune piece of it.
func Pieces(pw string) []string {
	runes := []rune(pw)
	out := []string{pw}
	for i := 0; i+4 <= len(runes); i++ {
		out = append(out, string(runes[i:i+4]))
	}
	return out
}

// Leak returns the first piece of pw (the whole of it, or 4 runes of it)
// that text contains, or "" when there is none. A password shorter than 4
// runes is looked for whole.
func Leak(text, pw string) string {
	if pw == "" {
		return ""
	}
	if utf8.RuneCountInString(pw) < 4 {
		if strings.Contains(text, pw) {
			return pw
		}
		return ""
	}
	for _, p := range Pieces(pw) {
		if strings.Contains(text, p) {
			return p
		}
	}
	return ""
}
