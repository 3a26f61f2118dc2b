package app

import (
	"bytes"
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"unicode/utf8"

	"github.com/rediscache/rediscache/domain"
	"github.com/rediscache/rediscache/ports"
)

// JSONCodec encodes values as JSON with encoding/json. It is the default
// codec of a Cache. A value JSON cannot represent (a channel, a function, a
// NaN float, a string that is not valid UTF-8) fails with
// domain.ErrInvalidArgument, and so do bytes that do not decode into the
// requested type. Store binary data as []byte (base64 in JSON), not string.
type JSONCodec struct{}

var _ ports.Codec = JSONCodec{}

// Encode returns the JSON encoding of v.
func (JSONCodec) Encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("%w: encode %T: %w", domain.ErrInvalidArgument, v, err)
	}
	// encoding/json silently replaces every byte of a string that is not
	// valid UTF-8 with U+FFFD, which it writes as the escape \ufffd (a real
	// U+FFFD is written as is), so such a value would not decode to itself.
	// The escape is rare; only then is v walked to tell the two apart.
	if bytes.Contains(b, []byte(`\ufffd`)) && hasInvalidUTF8(reflect.ValueOf(v), 0) {
		return nil, fmt.Errorf("%w: encode %T: a string is not valid UTF-8 (use []byte for binary data)",
			domain.ErrInvalidArgument, v)
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

var (
	jsonMarshalerType = reflect.TypeFor[json.Marshaler]()
	textMarshalerType = reflect.TypeFor[encoding.TextMarshaler]()
)

// hasInvalidUTF8 reports whether encoding/json would write a string (a
// value or a map key) of v that is not valid UTF-8. Values with their own
// MarshalJSON are their own business. v has been marshalled without error,
// so it holds no cycle; depth only bounds the walk defensively.
func hasInvalidUTF8(v reflect.Value, depth int) bool {
	if !v.IsValid() || depth > 10000 {
		return false
	}
	t := v.Type()
	if t.Implements(jsonMarshalerType) || (v.CanAddr() && reflect.PointerTo(t).Implements(jsonMarshalerType)) {
		return false
	}
	if t.Implements(textMarshalerType) && v.CanInterface() {
		if (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface) && v.IsNil() {
			return false
		}
		text, err := v.Interface().(encoding.TextMarshaler).MarshalText()
		return err == nil && !utf8.Valid(text)
	}
	switch v.Kind() {
	case reflect.String:
		return !utf8.ValidString(v.String())
	case reflect.Pointer, reflect.Interface:
		return !v.IsNil() && hasInvalidUTF8(v.Elem(), depth+1)
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if (!f.IsExported() && !f.Anonymous) || f.Tag.Get("json") == "-" {
				continue
			}
			if hasInvalidUTF8(v.Field(i), depth+1) {
				return true
			}
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if hasInvalidUTF8(it.Key(), depth+1) || hasInvalidUTF8(it.Value(), depth+1) {
				return true
			}
		}
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return false // []byte: base64
		}
		fallthrough
	case reflect.Array:
		for i := range v.Len() {
			if hasInvalidUTF8(v.Index(i), depth+1) {
				return true
			}
		}
	}
	return false
}
