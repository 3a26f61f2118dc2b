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
	// Max is the most results returned. Zero means DefaultSugMax, the
	// module's own default; values outside 1..MaxSugMax give DefaultSugMax,
	// as RediSearch 1.2 does.
	Max int
	// WithScores fills Suggestion.Score.
	WithScores bool
	// WithPayloads fills Suggestion.Payload.
	WithPayloads bool
}

const (
	// DefaultSugMax is the number of results FT.SUGGET returns without MAX.
	DefaultSugMax = 5
	// MaxSugMax is the largest MAX the RediSearch 1.2 module honours.
	MaxSugMax = 10
)
