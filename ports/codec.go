package ports

// Codec turns Go values into the bytes stored in Redis and back. Encode
// fails with an error matching domain.ErrInvalidArgument for a value it
// cannot represent; Decode fails with one for bytes it cannot read. Decode of
// Encode(v) into a value of v's type gives back a value equal to v.
type Codec interface {
	Encode(v any) ([]byte, error)
	Decode(data []byte, v any) error
}
