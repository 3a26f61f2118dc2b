package app

import (
	"encoding/json"
	"fmt"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// JSONCodec encodes values as JSON with encoding/json. It is the default
// codec of a Cache. A value JSON cannot represent (a channel, a function, a
// NaN float) fails with domain.ErrInvalidArgument, and so do bytes that do not
// decode into the requested type.
type JSONCodec struct{}

var _ ports.Codec = JSONCodec{}

// Encode returns the JSON encoding of v.
func (JSONCodec) Encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: encode %T: %w", domain.ErrInvalidArgument, v, err)
	}
	return b, nil
}

// Decode stores the JSON value in data into v, which must be a non-nil pointer.
func (JSONCodec) Decode(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%w: decode into %T: %w", domain.ErrInvalidArgument, v, err)
	}
	return nil
}
