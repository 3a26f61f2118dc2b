package domain

// Suggestion is one entry of an autocomplete dictionary (RediSearch FT.SUG*).
type Suggestion struct {
	// String is the suggested text. It is matched case-insensitively by
	// prefix and deleted by exact, case-sensitive match.
	String string
	// Score weighs the suggestion. On add, a zero score means DefaultScore.
	// On read, it is the ranking score computed by the module (the stored
	// score normalised by the prefix length) and is only set when scores
	// were requested.
	Score float64
	// Payload is opaque data attached to the suggestion; nil means none.
	// On read it is only set when payloads were requested.
	Payload []byte
	// Incr adds Score to the stored score instead of replacing it (INCR).
	// Only meaningful on add.
	Incr bool
}

// DefaultScore is the score of a suggestion added with a zero Score, as in
// Frappe's sugadd (score defaults to 1.0).
const DefaultScore = 1.0

// SugGetOptions tune a suggestion lookup (FT.SUGGET).
type SugGetOptions struct {
	// Fuzzy also matches prefixes within Levenshtein distance 1.
	Fuzzy bool
	// Max is the most results returned. Zero means DefaultSugMax (10),
	// the default of Frappe's sugget; 1..MaxSugMax are honoured; any other
	// value gives ModuleSugMax (5), as RediSearch 1.2 does. Limit returns
	// the number that applies.
	Max int
	// WithScores fills Suggestion.Score.
	WithScores bool
	// WithPayloads fills Suggestion.Payload.
	WithPayloads bool
}

const (
	// DefaultSugMax is the number of results a zero Max asks for: 10, the
	// default of Frappe's sugget (num=10). Every backend applies it alike.
	DefaultSugMax = 10
	// ModuleSugMax is the number of results the RediSearch 1.2 module
	// returns without MAX or with a MAX outside 1..MaxSugMax.
	ModuleSugMax = 5
	// MaxSugMax is the largest MAX the RediSearch 1.2 module honours.
	MaxSugMax = 10
)

// Limit returns the most results a lookup with o returns: DefaultSugMax
// for a zero Max, Max itself within 1..MaxSugMax, ModuleSugMax otherwise.
func (o SugGetOptions) Limit() int {
	switch {
	case o.Max == 0:
		return DefaultSugMax
	case o.Max < 1 || o.Max > MaxSugMax:
		return ModuleSugMax
	}
	return o.Max
}
