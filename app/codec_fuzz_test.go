package app_test

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/rediscache/rediscache/app"
	"github.com/rediscache/rediscache/domain"
)

// codecFuzzValue is the value FuzzJSONCodec round-trips: the fuzzed inputs
// in fields of the kinds a cached value is made of.
type codecFuzzValue struct {
	S   string
	I   int64
	U   uint64
	F   float64
	F32 float32
	B   []byte
	P   *string
	L   []string
	M   map[string]float64
	Any any `json:",omitempty"`
	In  codecFuzzInner
	Tag string `json:"tag,omitempty"`
}

type codecFuzzInner struct {
	Key []byte
	N   int32
}

// FuzzJSONCodec checks the ports.Codec contract on JSONCodec:
//
//   - Encode of any value built from the fuzzed string, integers, floats and
//     bytes either fails with domain.ErrInvalidArgument (a value JSON cannot
//     hold: NaN, ±Inf, a string that is not valid UTF-8) or succeeds, and
//     then Decode into a value of the same type gives back an equal value;
//   - Decode of arbitrary bytes never panics, and fails with
//     domain.ErrInvalidArgument for bytes that are not JSON; what it
//     accepts encodes and decodes again to the same value.
//
// Run it longer with `go test -run '^$' -fuzz '^FuzzJSONCodec$' -fuzztime 10m
// ./app/`.
func FuzzJSONCodec(f *testing.F) {
	f.Add("hello", int64(42), uint64(7), 3.5, []byte("bytes"), []byte(`{"S":"x","I":1}`))
	f.Add("", int64(0), uint64(0), 0.0, []byte(nil), []byte(``))
	f.Add("<&>\u2028\u00e9\U0001F600\x00", int64(math.MinInt64), uint64(math.MaxUint64), -0.0, []byte{0, 0xff}, []byte(`{"S":"\ud800"}`))
	f.Add("\xff\xfe", int64(math.MaxInt64), uint64(1<<53+1), math.SmallestNonzeroFloat64, []byte{}, []byte(`[1,2`))
	f.Add("\ufffd", int64(-1), uint64(1), math.MaxFloat64, []byte("\ufffd"), []byte(`{"M":{"a":1e400}}`))
	f.Add(`\ufffd`, int64(1), uint64(2), 1e-310, []byte(`"`), []byte(`{"F":NaN}`))
	f.Add("x", int64(3), uint64(4), math.Inf(1), []byte("y"), []byte(`{"B":"not base64!"}`))
	f.Fuzz(func(t *testing.T, s string, i int64, u uint64, fl float64, b []byte, data []byte) {
		var codec app.JSONCodec
		str := s
		v := codecFuzzValue{
			S: s, I: i, U: u, F: fl, F32: float32(fl), B: b, P: &str,
			L:   []string{s, "", s},
			M:   map[string]float64{s: fl, "k": float64(i)},
			In:  codecFuzzInner{Key: b, N: int32(i)},
			Tag: s,
		}
		if i%2 == 0 {
			v.Any = s // decodes back as a string
		}
		roundTrip(t, codec, v)
		roundTrip(t, codec, s)
		roundTrip(t, codec, b)
		roundTrip(t, codec, fl)
		roundTrip(t, codec, map[string]string{s: s})

		// Decode of arbitrary bytes.
		var got codecFuzzValue
		err := codec.Decode(data, &got)
		if err != nil && !errors.Is(err, domain.ErrInvalidArgument) {
			t.Fatalf("Decode(%q) = %v, want an error matching ErrInvalidArgument", data, err)
		}
		if !json.Valid(data) && err == nil {
			t.Fatalf("Decode(%q) of invalid JSON succeeded", data)
		}
		if err == nil {
			got.Any = nil // a decoded any may hold float64s that do not round-trip as the same type
			roundTrip(t, codec, got)
		}
		var anyV any
		if err := codec.Decode(data, &anyV); err != nil && !errors.Is(err, domain.ErrInvalidArgument) {
			t.Fatalf("Decode(%q) into any = %v", data, err)
		}
		if err := codec.Decode(data, nil); !errors.Is(err, domain.ErrInvalidArgument) {
			t.Fatalf("Decode(%q, nil) = %v, want ErrInvalidArgument", data, err)
		}
	})
}

// roundTrip encodes v and decodes it into a new value of its type, which
// must equal v unless Encode refused v with domain.ErrInvalidArgument.
func roundTrip[T any](t *testing.T, codec app.JSONCodec, v T) {
	t.Helper()
	data, err := codec.Encode(v)
	if err != nil {
		if !errors.Is(err, domain.ErrInvalidArgument) {
			t.Fatalf("Encode(%#v) = %v, want nil or ErrInvalidArgument", v, err)
		}
		return
	}
	var got T
	if err := codec.Decode(data, &got); err != nil {
		t.Fatalf("Decode(Encode(%#v)) = %v (data %q)", v, err, data)
	}
	if !reflect.DeepEqual(got, v) {
		t.Fatalf("Decode(Encode(v)) differs:\n v   = %#v\n got = %#v\n data = %q", v, got, data)
	}
}

// TestJSONCodecUTF8 pins what FuzzJSONCodec found first: encoding/json
// replaces invalid UTF-8 with U+FFFD, so JSONCodec refuses such strings
// instead of storing a value that does not decode to itself.
func TestJSONCodecUTF8(t *testing.T) {
	var codec app.JSONCodec
	type withMap struct{ M map[string]int }
	for _, v := range []any{
		"\xff", []string{"ok", "a\xc3"}, withMap{M: map[string]int{"\x80": 1}},
		&codecFuzzValue{In: codecFuzzInner{}, L: []string{"\xed\xa0\x80"}},
	} {
		if _, err := codec.Encode(v); !errors.Is(err, domain.ErrInvalidArgument) {
			t.Errorf("Encode(%#v) = %v, want ErrInvalidArgument", v, err)
		}
	}
	// A real U+FFFD, the text `\ufffd` and binary bytes are fine.
	roundTrip(t, codec, "\ufffd")
	roundTrip(t, codec, `\ufffd \\ufffd`)
	roundTrip(t, codec, codecFuzzValue{B: []byte{0xff}, S: "\ufffd"})
	roundTrip(t, codec, json.RawMessage(`"\ufffd"`))
}
