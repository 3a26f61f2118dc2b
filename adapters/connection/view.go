package connection

import (
	"fmt"
	"strings"
	"time"

	"go.uber.org/zap/zapcore"
)

// Redacted stands for a secret in String, GoString, MarshalLogObject and
// RedactURL.
const Redacted = "[REDACTED]"

// Secret is a setting that is never shown: it formats as Redacted when set
// and as "" when empty (so a missing password still shows).
type Secret string

// String returns Redacted, or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return Redacted
}

// GoString is String, quoted.
func (s Secret) GoString() string { return fmt.Sprintf("%q", s.String()) }

// Field is one setting of a config as its View shows it. Value is a
// string, bool, int, time.Duration, []string, Secret or a nested View.
type Field struct {
	Name  string
	Value any
}

// View is the printable form of a config, secrets redacted: the one place
// that renders configs for String (%v, %+v, %s), GoString (%#v) and zap
// (MarshalLogObject). Each config type builds its View and hands its three
// methods to it, so a secret has one place to be redacted in.
type View struct {
	// Type names the config, e.g. "standalone.Config".
	Type   string
	Fields []Field
}

// String renders v as Name:value pairs in braces, after the type name.
func (v View) String() string {
	var b strings.Builder
	v.write(&b, false)
	return b.String()
}

// GoString renders v in Go-like syntax, strings quoted.
func (v View) GoString() string {
	var b strings.Builder
	v.write(&b, true)
	return b.String()
}

func (v View) write(b *strings.Builder, goSyntax bool) {
	b.WriteString(v.Type)
	b.WriteByte('{')
	for i, f := range v.Fields {
		if i > 0 {
			if goSyntax {
				b.WriteString(", ")
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteString(f.Name)
		b.WriteByte(':')
		switch val := f.Value.(type) {
		case View:
			val.write(b, goSyntax)
		case Secret:
			if goSyntax {
				b.WriteString(val.GoString())
			} else {
				b.WriteString(val.String())
			}
		case time.Duration:
			b.WriteString(val.String())
		default:
			if goSyntax {
				fmt.Fprintf(b, "%#v", val)
			} else {
				fmt.Fprintf(b, "%v", val)
			}
		}
	}
	b.WriteByte('}')
}

// MarshalLogObject writes v's fields to a zap encoder (zap.Object,
// zap.Any), secrets redacted.
func (v View) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	for _, f := range v.Fields {
		switch val := f.Value.(type) {
		case View:
			if err := enc.AddObject(f.Name, val); err != nil {
				return err
			}
		case Secret:
			enc.AddString(f.Name, val.String())
		case string:
			enc.AddString(f.Name, val)
		case bool:
			enc.AddBool(f.Name, val)
		case int:
			enc.AddInt(f.Name, val)
		case time.Duration:
			enc.AddDuration(f.Name, val)
		case []string:
			if err := enc.AddArray(f.Name, zapcore.ArrayMarshalerFunc(func(ae zapcore.ArrayEncoder) error {
				for _, s := range val {
					ae.AppendString(s)
				}
				return nil
			})); err != nil {
				return err
			}
		default:
			enc.AddString(f.Name, fmt.Sprint(val))
		}
	}
	return nil
}

// View returns the printable form of o: the password redacted, TLS and the
// telemetry providers shown as whether they are set.
func (o Options) View() View {
	return View{Type: "connection.Options", Fields: []Field{
		{"Username", o.Username},
		{"Password", Secret(o.Password)},
		{"TLS", o.TLS != nil},
		{"DialTimeout", o.DialTimeout},
		{"ReadTimeout", o.ReadTimeout},
		{"WriteTimeout", o.WriteTimeout},
		{"PoolSize", o.PoolSize},
		{"TrackingPoolSize", o.TrackingPoolSize},
		{"MaxRetries", o.MaxRetries},
		{"Protocol", o.Protocol},
		{"DisableContextTimeout", o.DisableContextTimeout},
		{"ClientName", o.ClientName},
		{"ConnMaxLifetime", o.ConnMaxLifetime},
		{"ConnMaxIdleTime", o.ConnMaxIdleTime},
		{"MeterProvider", o.MeterProvider != nil},
		{"TracerProvider", o.TracerProvider != nil},
		{"CommandSpans", o.CommandSpans},
	}}
}

// String shows o with the password redacted (%v, %+v, %s).
func (o Options) String() string { return o.View().String() }

// GoString shows o with the password redacted (%#v).
func (o Options) GoString() string { return o.View().GoString() }

// MarshalLogObject logs o with the password redacted (zap.Object,
// zap.Any).
func (o Options) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	return o.View().MarshalLogObject(enc)
}
