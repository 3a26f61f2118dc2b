package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestGeneratedUpToDate fails when an adapter's forward_gen.go is not what
// the generator writes now: a method of redisstore was added, removed or
// re-documented without go generate.
func TestGeneratedUpToDate(t *testing.T) {
	for _, adapter := range []string{"standalone", "sentinel"} {
		dir := filepath.Join("..", "..", adapter)
		want, err := generate(dir, filepath.Join("..", "redisstore"))
		if err != nil {
			t.Fatalf("%s: %v", adapter, err)
		}
		got, err := os.ReadFile(filepath.Join(dir, outName))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("adapters/%s/%s is out of date: run go generate ./adapters/...", adapter, outName)
		}
	}
}

// TestGenerate checks the generator on a small package: forwarding of own
// and promoted methods, variadic calls, doc comments, methods declared by
// hand left out, and a signature naming a type the adapter cannot see
// rejected.
func TestGenerate(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	write := func(dir, name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(src, "redisstore.go", `package redisstore

import "context"

type Store struct{}

// Get gets.
func (s *Store) Get(ctx context.Context, key string) ([]byte, error) { return nil, nil }

// Del deletes.
func (s *Store) Del(ctx context.Context, keys ...string) error { return nil }

func (s *Store) Ping(ctx context.Context) error { return nil }

func (s *Store) unexported() {}

type Tracked struct {
	*Store
}

// Close closes the tracked store.
func (t *Tracked) Close() error { return nil }
`)
	write(dst, "adapter.go", `package adapter

import (
	"context"

	"`+srcPkg+`"
)

type Store struct{ rs *redisstore.Store }

// Ping is the adapter's own.
func (s *Store) Ping(ctx context.Context) error { return nil }

type Tracked struct{ rt *redisstore.Tracked }
`)
	out, err := generate(dst, src)
	if err != nil {
		t.Fatal(err)
	}
	got := string(out)
	for _, want := range []string{
		"// Get gets.\nfunc (s *Store) Get(ctx context.Context, key string) ([]byte, error) {\n\treturn s.rs.Get(ctx, key)\n}",
		"// Del deletes.\nfunc (s *Store) Del(ctx context.Context, keys ...string) error {\n\treturn s.rs.Del(ctx, keys...)\n}",
		"func (t *Tracked) Get(ctx context.Context, key string) ([]byte, error) {\n\treturn t.rt.Get(ctx, key)\n}",
		"func (t *Tracked) Ping(ctx context.Context) error {\n\treturn t.rt.Ping(ctx)\n}",
		"// Close closes the tracked store.\nfunc (t *Tracked) Close() error {\n\treturn t.rt.Close()\n}",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("generated code lacks\n%s\n--- got:\n%s", want, got)
		}
	}
	for _, unwanted := range []string{"func (s *Store) Ping", "unexported"} {
		if strings.Contains(got, unwanted) {
			t.Errorf("generated code has %q:\n%s", unwanted, got)
		}
	}

	write(src, "more.go", `package redisstore

import "context"

type Option int

func (s *Store) With(ctx context.Context, o Option) error { return nil }
`)
	if _, err := generate(dst, src); err == nil || !strings.Contains(err.Error(), "Option") {
		t.Errorf("a signature with a redisstore type: err = %v, want one naming Option", err)
	}
}
