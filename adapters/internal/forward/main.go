// Command forward writes the methods through which an adapter's public
// store types expose the methods of the redisstore types they wrap, so that
// go doc lists them on the public types (go doc does not list methods
// promoted from an embedded type of another package).
//
// Run it with go generate in an adapter's directory (adapters/standalone,
// adapters/sentinel):
//
//	//go:generate go run ../internal/forward
//
// It reads the package in the working directory and, for every struct type
// that has a named field of a pointer to a redisstore type (*redisstore.Store),
// writes to forward_gen.go one method per exported method of that field's
// type (its own and those promoted from types it embeds), with the
// redisstore method's doc comment, that calls the field's method. Methods
// the type declares by hand (sentinel's Ping) are left out. With -check it
// writes nothing and fails when forward_gen.go is not what it would write.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

// outName is the file the generator writes in the target package.
const outName = "forward_gen.go"

func main() {
	src := flag.String("src", filepath.Join("..", "internal", "redisstore"), "directory of package redisstore")
	check := flag.Bool("check", false, "fail if "+outName+" is out of date instead of writing it")
	flag.Parse()
	if err := run(".", *src, *check); err != nil {
		fmt.Fprintln(os.Stderr, "forward:", err)
		os.Exit(1)
	}
}

func run(dir, src string, check bool) error {
	out, err := generate(dir, src)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, outName)
	if check {
		cur, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !bytes.Equal(cur, out) {
			return fmt.Errorf("%s is out of date: run go generate in %s", path, dir)
		}
		return nil
	}
	return os.WriteFile(path, out, 0o644)
}
