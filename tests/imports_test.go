package tests

import (
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// module is the import path of this module.
const module = "github.com/rediscache/rediscache"

// importViolations returns one message for every import of the package at
// pkgDir (a slash path relative to the module root, "" for the root) that
// breaks the hexagonal layering:
//
//   - domain imports only the standard library;
//   - ports imports only the standard library and domain;
//   - nothing under adapters imports app or fxmodule, and adapters/X imports
//     no adapters/Y except adapters/internal/... and adapters/connection (the
//     connection settings every Redis adapter shares), which imports no
//     other adapter;
//   - app imports no adapter and no go-redis;
//   - tests/conformance imports no adapter;
//   - app/clientcache/internal/wtinylfu (the ClientCache's eviction policy) imports only the
//     standard library.
func importViolations(pkgDir string, imports []string) []string {
	var out []string
	bad := func(imp, rule string) {
		out = append(out, fmt.Sprintf("%s imports %s: %s", displayDir(pkgDir), imp, rule))
	}
	for _, imp := range imports {
		rel, inModule := moduleRel(imp)
		switch {
		case under(pkgDir, "domain"):
			if !isStdlib(imp) {
				bad(imp, "domain may import only the standard library")
			}
		case under(pkgDir, "app/clientcache/internal/wtinylfu"):
			if !isStdlib(imp) {
				bad(imp, "app/clientcache/internal/wtinylfu may import only the standard library")
			}
		case under(pkgDir, "ports"):
			if !isStdlib(imp) && !(inModule && rel == "domain") {
				bad(imp, "ports may import only the standard library and domain")
			}
		case under(pkgDir, "adapters"):
			switch {
			case inModule && under(rel, "app"):
				bad(imp, "adapters must not import app")
			case inModule && under(rel, "fxmodule"):
				bad(imp, "adapters must not import fxmodule")
			case inModule && under(rel, "adapters") && !under(rel, "adapters/internal") &&
				!(rel == "adapters/connection" && !under(pkgDir, "adapters/connection")) &&
				adapterName(rel) != adapterName(pkgDir):
				bad(imp, "an adapter must not import another adapter (only adapters/internal/...)")
			}
		case under(pkgDir, "app"):
			switch {
			case inModule && under(rel, "adapters"):
				bad(imp, "app must not import adapters")
			case under(imp, "github.com/redis/go-redis"):
				bad(imp, "app must not import go-redis")
			}
		case under(pkgDir, "tests/conformance"):
			if inModule && under(rel, "adapters") {
				bad(imp, "tests/conformance must not import adapters")
			}
		}
	}
	return out
}

// under reports whether the slash path p is dir or inside it.
func under(p, dir string) bool {
	return p == dir || strings.HasPrefix(p, dir+"/")
}

// moduleRel returns imp relative to the module root, when it is in it.
func moduleRel(imp string) (string, bool) {
	if imp == module {
		return "", true
	}
	rel, ok := strings.CutPrefix(imp, module+"/")
	return rel, ok
}

// adapterName is X for adapters/X/...
func adapterName(rel string) string {
	parts := strings.SplitN(rel, "/", 3)
	if len(parts) < 2 {
		return ""
	}
	return parts[1]
}

// isStdlib reports whether imp is a standard-library path: its first element
// has no dot (and it is not this module, whose path has one).
func isStdlib(imp string) bool {
	first, _, _ := strings.Cut(imp, "/")
	return !strings.Contains(first, ".")
}

func displayDir(dir string) string {
	if dir == "" {
		return "."
	}
	return dir
}

// moduleRoot finds the directory holding go.mod, upwards from the working
// directory.
func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the working directory")
		}
		dir = parent
	}
}

// packageImports parses the non-test Go files of the module and returns the
// imports of each directory (slash path relative to the root).
func packageImports(t *testing.T, root string) map[string][]string {
	t.Helper()
	pkgs := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if p != root && (strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") ||
				name == "testdata" || name == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(p))
		if err != nil {
			return err
		}
		dir := path.Clean(filepath.ToSlash(rel))
		if dir == "." {
			dir = ""
		}
		for _, spec := range f.Imports {
			imp, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			if !slices.Contains(pkgs[dir], imp) {
				pkgs[dir] = append(pkgs[dir], imp)
			}
		}
		if _, ok := pkgs[dir]; !ok {
			pkgs[dir] = nil
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

// TestImports enforces the layering on the module's non-test Go files and
// reports every violation.
func TestImports(t *testing.T) {
	root := moduleRoot(t)
	pkgs := packageImports(t, root)
	for _, must := range []string{"domain", "ports", "adapters/standalone", "adapters/sentinel", "adapters/cluster",
		"tests/conformance", "app/clientcache/internal/wtinylfu"} {
		if _, ok := pkgs[must]; !ok {
			t.Errorf("package %s not found under %s: the walk is broken", must, root)
		}
	}
	dirs := make([]string, 0, len(pkgs))
	for dir := range pkgs {
		dirs = append(dirs, dir)
	}
	slices.Sort(dirs)
	for _, dir := range dirs {
		for _, v := range importViolations(dir, pkgs[dir]) {
			t.Error(v)
		}
	}
}

// TestImportRules checks that importViolations catches each kind of
// violation, and every one of them, so TestImports can fail.
func TestImportRules(t *testing.T) {
	const goRedis = "github.com/redis/go-redis/v9"
	cases := []struct {
		dir     string
		imports []string
		want    int
	}{
		{"domain", []string{"errors", "fmt", "time"}, 0},
		{"domain", []string{"errors", goRedis, module + "/ports"}, 2},
		{"ports", []string{"context", module + "/domain"}, 0},
		{"ports", []string{"context", module + "/app", "go.uber.org/zap"}, 2},
		{"adapters/memory", []string{"context", module + "/domain", module + "/ports", "go.uber.org/zap"}, 0},
		{"adapters/memory", []string{module + "/app", module + "/fxmodule", module + "/adapters/standalone"}, 3},
		{"adapters/standalone", []string{module + "/adapters/internal/redisstore", goRedis}, 0},
		{"adapters/standalone/sub", []string{module + "/adapters/standalone", module + "/adapters/sentinel"}, 1},
		{"adapters/cluster", []string{module + "/adapters/internal/redisstore", module + "/adapters/connection", goRedis, "go.uber.org/zap"}, 0},
		{"adapters/cluster", []string{module + "/adapters/standalone", module + "/adapters/sentinel", module + "/app", module + "/fxmodule"}, 4},
		{"adapters/connection", []string{module + "/adapters/cluster"}, 1},
		{"adapters/internal/redisstore", []string{module + "/adapters/internal/other", module + "/adapters/memory"}, 1},
		{"app", []string{module + "/ports", module + "/domain", "go.uber.org/zap"}, 0},
		{"app", []string{module + "/adapters/memory", goRedis, "github.com/redis/go-redis/v9/maintnotifications"}, 3},
		{"tests/conformance", []string{module + "/ports", "github.com/onsi/ginkgo/v2"}, 0},
		{"tests/conformance", []string{module + "/adapters/memory", module + "/adapters/internal/redisstore"}, 2},
		{"fxmodule", []string{module + "/adapters/memory", module + "/adapters/cluster", goRedis}, 0},
		{"tests", []string{module + "/adapters/memory"}, 0},
		{"app/clientcache/internal/wtinylfu", []string{"sync", "sync/atomic", "unsafe"}, 0},
		{"app/clientcache/internal/wtinylfu", []string{"go.uber.org/zap", module + "/domain"}, 2},
		{"app/clientcache", []string{module + "/app/clientcache/internal/wtinylfu"}, 0},
	}
	for _, c := range cases {
		got := importViolations(c.dir, c.imports)
		if len(got) != c.want {
			t.Errorf("importViolations(%q, %q) = %d violations %q, want %d", c.dir, c.imports, len(got), got, c.want)
		}
	}
	// The package named "domainx" is not domain.
	if got := importViolations("domainx", []string{goRedis}); len(got) != 0 {
		t.Errorf("domainx treated as domain: %q", got)
	}
}
