package spec

import (
	"fmt"
	"strings"
)

// FieldError is one problem in a manifest: where it is and what is wrong.
// Source.Line is the line of the offending field where the decoder knows
// it, else the line the document starts on.
type FieldError struct {
	Source Source
	// Field is the path of the field, like "spec.volumes[0].mountPath";
	// empty when the problem is the whole document or file.
	Field  string
	Detail string
}

// Error renders "app.yaml: document 2 (line 14): spec.image: is required".
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.Source.String())
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Detail)
	return b.String()
}

// ErrorList is every problem found, in file order. Decode, Check and Load
// return one as their error, so callers can errors.As it and report the
// problems one per line or per file.
type ErrorList []*FieldError

// Error renders one problem per line.
func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Files lists the files with problems, in the order they first appear.
func (l ErrorList) Files() []string {
	var files []string
	seen := map[string]bool{}
	for _, e := range l {
		if !seen[e.Source.File] {
			seen[e.Source.File] = true
			files = append(files, e.Source.File)
		}
	}
	return files
}

// For returns the problems of one file: a controller that keeps each
// file's last good objects replaces only the files without problems.
func (l ErrorList) For(file string) ErrorList {
	var out ErrorList
	for _, e := range l {
		if e.Source.File == file {
			out = append(out, e)
		}
	}
	return out
}

// orNil returns nil for an empty list, so "err != nil" means "problems".
func (l ErrorList) orNil() error {
	if len(l) == 0 {
		return nil
	}
	return l
}

// String renders "app.yaml: document 2 (line 14)", dropping what is unknown.
func (s Source) String() string {
	file := s.File
	if file == "-" {
		file = "<stdin>"
	}
	switch {
	case s.Document > 0 && s.Line > 0:
		return fmt.Sprintf("%s: document %d (line %d)", file, s.Document, s.Line)
	case s.Document > 0:
		return fmt.Sprintf("%s: document %d", file, s.Document)
	case s.Line > 0:
		return fmt.Sprintf("%s: line %d", file, s.Line)
	}
	return file
}

// fieldErrs collects problems of one document by field path while the
// document is being checked; Decode attaches the source and lines later.
type fieldErrs []fieldErr

type fieldErr struct{ path, detail string }

func (f *fieldErrs) add(path, format string, args ...any) {
	*f = append(*f, fieldErr{path, fmt.Sprintf(format, args...)})
}

// path helpers build the field paths used in errors and in the line index.
func child(parent, key string) string {
	if !isIdent(key) {
		return fmt.Sprintf("%s[%q]", parent, key)
	}
	if parent == "" {
		return key
	}
	return parent + "." + key
}

func index(parent string, i int) string { return fmt.Sprintf("%s[%d]", parent, i) }

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case i > 0 && ('0' <= c && c <= '9' || c == '-'):
		default:
			return false
		}
	}
	return true
}
