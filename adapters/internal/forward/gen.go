package main

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/printer"
	"go/token"
	"go/types"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// srcPkg is the import path of the package whose types are wrapped.
const srcPkg = "github.com/rediscache/rediscache/adapters/internal/redisstore"

// pkg is a parsed package: its files and, per type, its methods and the
// types of the same package it embeds.
type pkg struct {
	name    string
	fset    *token.FileSet
	files   []*ast.File
	methods map[string]map[string]*method // type → method name → method
	structs map[string]*ast.StructType
}

// method is one method declaration.
type method struct {
	decl *ast.FuncDecl
	file *ast.File
}

// load parses the non-test Go files of dir, except skip.
func load(dir, skip string) (*pkg, error) {
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	p := &pkg{
		fset:    token.NewFileSet(),
		methods: map[string]map[string]*method{},
		structs: map[string]*ast.StructType{},
	}
	for _, name := range names {
		base := filepath.Base(name)
		if strings.HasSuffix(base, "_test.go") || base == skip {
			continue
		}
		f, err := parser.ParseFile(p.fset, name, nil, parser.ParseComments)
		if err != nil {
			return nil, err
		}
		if f.Name.Name == "main" || strings.HasSuffix(f.Name.Name, "_test") {
			continue
		}
		p.name = f.Name.Name
		p.files = append(p.files, f)
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil || len(d.Recv.List) != 1 {
					continue
				}
				recv := typeName(d.Recv.List[0].Type)
				if p.methods[recv] == nil {
					p.methods[recv] = map[string]*method{}
				}
				p.methods[recv][d.Name.Name] = &method{decl: d, file: f}
			case *ast.GenDecl:
				for _, spec := range d.Specs {
					if ts, ok := spec.(*ast.TypeSpec); ok {
						if st, ok := ts.Type.(*ast.StructType); ok {
							p.structs[ts.Name.Name] = st
						}
					}
				}
			}
		}
	}
	if p.name == "" {
		return nil, fmt.Errorf("no Go package in %s", dir)
	}
	return p, nil
}

// typeName is the name of a receiver type: T for T and *T.
func typeName(e ast.Expr) string {
	if s, ok := e.(*ast.StarExpr); ok {
		e = s.X
	}
	if id, ok := e.(*ast.Ident); ok {
		return id.Name
	}
	return ""
}

// exported returns the exported methods of typ, its own and those promoted
// from the types of the same package it embeds (its own win).
func (p *pkg) exported(typ string) map[string]*method {
	out := map[string]*method{}
	if st := p.structs[typ]; st != nil {
		for _, f := range st.Fields.List {
			if len(f.Names) == 0 {
				for name, m := range p.exported(typeName(f.Type)) {
					out[name] = m
				}
			}
		}
	}
	for name, m := range p.methods[typ] {
		if ast.IsExported(name) {
			out[name] = m
		}
	}
	return out
}

// wrapper is a struct type of the target package with a field of a
// redisstore type.
type wrapper struct {
	typ, field, wrapped string
}

// wrappers finds, in the target package, the struct types with a named
// field of type *redisstore.<T>, in name order.
func (p *pkg) wrappers() []wrapper {
	local := map[*ast.File]string{} // the file's name for srcPkg
	for _, f := range p.files {
		for _, imp := range f.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); path == srcPkg {
				local[f] = "redisstore"
				if imp.Name != nil {
					local[f] = imp.Name.Name
				}
			}
		}
	}
	var out []wrapper
	for _, f := range p.files {
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, spec := range gd.Specs {
				ts, ok := spec.(*ast.TypeSpec)
				if !ok {
					continue
				}
				st, ok := ts.Type.(*ast.StructType)
				if !ok {
					continue
				}
				for _, fld := range st.Fields.List {
					star, ok := fld.Type.(*ast.StarExpr)
					if !ok || len(fld.Names) != 1 {
						continue
					}
					sel, ok := star.X.(*ast.SelectorExpr)
					if !ok {
						continue
					}
					if x, ok := sel.X.(*ast.Ident); ok && local[f] != "" && x.Name == local[f] {
						out = append(out, wrapper{typ: ts.Name.Name, field: fld.Names[0].Name, wrapped: sel.Sel.Name})
					}
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b wrapper) int { return strings.Compare(a.typ, b.typ) })
	return out
}

// generate returns the forwarding methods of the package in dir, wrapping
// the types of the redisstore package in src, as gofmt-ed Go source.
func generate(dir, src string) ([]byte, error) {
	target, err := load(dir, outName)
	if err != nil {
		return nil, err
	}
	rs, err := load(src, "")
	if err != nil {
		return nil, err
	}
	ws := target.wrappers()
	if len(ws) == 0 {
		return nil, fmt.Errorf("no type of package %s has a *redisstore field", target.name)
	}

	var body bytes.Buffer
	imports := map[string]bool{}
	for _, w := range ws {
		methods := rs.exported(w.wrapped)
		if len(methods) == 0 {
			return nil, fmt.Errorf("%s.%s: redisstore.%s has no exported methods", target.name, w.typ, w.wrapped)
		}
		names := make([]string, 0, len(methods))
		for name := range methods {
			if _, byHand := target.methods[w.typ][name]; !byHand {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		recv := string(unicode.ToLower(rune(w.typ[0])))
		for _, name := range names {
			if err := rs.write(&body, methods[name], recv, w, imports); err != nil {
				return nil, fmt.Errorf("%s.%s: %w", w.wrapped, name, err)
			}
		}
	}

	var out bytes.Buffer
	fmt.Fprintf(&out, "// Code generated by go run ../internal/forward; DO NOT EDIT.\n\n")
	fmt.Fprintf(&out, "package %s\n\n", target.name)
	paths := make([]string, 0, len(imports))
	for path := range imports {
		paths = append(paths, path)
	}
	slices.SortFunc(paths, func(a, b string) int {
		if isStd(a) != isStd(b) {
			if isStd(a) {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	})
	out.WriteString("import (\n")
	for i, path := range paths { // the standard library first, as goimports does
		if i > 0 && isStd(paths[i-1]) && !isStd(path) {
			out.WriteString("\n")
		}
		fmt.Fprintf(&out, "\t%q\n", path)
	}
	out.WriteString(")\n")
	out.Write(body.Bytes())
	formatted, err := format.Source(out.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting: %w\n%s", err, out.Bytes())
	}
	return formatted, nil
}

// write writes the method of w that calls m on w's field.
func (p *pkg) write(w *bytes.Buffer, m *method, recv string, wr wrapper, imports map[string]bool) error {
	ft := m.decl.Type
	if ft.TypeParams != nil {
		return fmt.Errorf("generic methods are not supported")
	}
	var args []string
	for _, f := range ft.Params.List {
		if len(f.Names) == 0 {
			return fmt.Errorf("unnamed parameter")
		}
		for _, n := range f.Names {
			if _, variadic := f.Type.(*ast.Ellipsis); variadic {
				args = append(args, n.Name+"...")
			} else {
				args = append(args, n.Name)
			}
		}
	}
	names := map[*ast.Ident]bool{} // parameter and result names, nested ones too
	ast.Inspect(ft, func(n ast.Node) bool {
		if f, ok := n.(*ast.Field); ok {
			for _, id := range f.Names {
				names[id] = true
			}
		}
		return true
	})
	var failure error
	ast.Inspect(ft, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			x, ok := n.X.(*ast.Ident)
			if !ok {
				failure = fmt.Errorf("unexpected selector in the signature")
				return false
			}
			path, err := importPath(m.file, x.Name)
			if err != nil {
				failure = err
			}
			imports[path] = true
			return false
		case *ast.Ident:
			// Anything but a name or a predeclared type is a type of
			// package redisstore, which the adapter cannot name.
			if !names[n] && types.Universe.Lookup(n.Name) == nil {
				failure = fmt.Errorf("the signature uses %s, a type of package redisstore", n.Name)
			}
		}
		return true
	})
	if failure != nil {
		return failure
	}
	var sig bytes.Buffer
	if err := printer.Fprint(&sig, p.fset, ft); err != nil {
		return err
	}
	signature := strings.TrimPrefix(sig.String(), "func")

	w.WriteString("\n")
	if m.decl.Doc != nil {
		for _, c := range m.decl.Doc.List {
			w.WriteString(c.Text + "\n")
		}
	}
	call := fmt.Sprintf("%s.%s.%s(%s)", recv, wr.field, m.decl.Name.Name, strings.Join(args, ", "))
	if ft.Results != nil && len(ft.Results.List) > 0 {
		call = "return " + call
	}
	fmt.Fprintf(w, "func (%s *%s) %s%s {\n\t%s\n}\n", recv, wr.typ, m.decl.Name.Name, signature, call)
	return nil
}

// majorVersion matches the last element of a module path such as .../v9.
var majorVersion = regexp.MustCompile(`^v[0-9]+$`)

// importPath returns the path of the import that file names name.
func importPath(f *ast.File, name string) (string, error) {
	for _, imp := range f.Imports {
		path, err := strconv.Unquote(imp.Path.Value)
		if err != nil {
			return "", err
		}
		if imp.Name != nil {
			if imp.Name.Name == name {
				return path, nil
			}
			continue
		}
		elems := strings.Split(path, "/")
		last := elems[len(elems)-1]
		if majorVersion.MatchString(last) && len(elems) > 1 {
			last = elems[len(elems)-2]
		}
		last = strings.TrimSuffix(strings.TrimPrefix(last, "go-"), "-go")
		if last == name {
			return path, nil
		}
	}
	return "", fmt.Errorf("no import names %q", name)
}

// isStd reports whether path is in the standard library.
func isStd(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}
