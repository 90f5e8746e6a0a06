package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// Decode reads the bytes of one manifest file: YAML documents separated by
// "---" lines, or a stream of JSON objects. Empty documents are skipped;
// every other document is decoded strictly (unknown fields are errors),
// defaulted, validated and hashed. Relative paths in it (build.context,
// import.path, tls files) are resolved against file's folder ("-", stdin,
// resolves against the working directory).
//
// The error, if any, is an ErrorList with every problem in the file. The
// objects that were valid are returned beside it, but a caller that keeps
// state per file should treat the file as a whole as failed.
//
// Decode does not check references between objects: see Check and Load.
func Decode(file string, data []byte) ([]Object, error) {
	d := decodeFile(file, data)
	return d.objects, d.errs.orNil()
}

// decoded is one file's outcome. partial holds what could be read of the
// invalid documents, so Load can still count them as declared and not
// report every reference to them as missing.
type decoded struct {
	objects []Object
	partial []Object
	errs    ErrorList
}

func decodeFile(file string, data []byte) decoded {
	var d decoded
	docs, err := splitDocuments(data)
	if err != nil {
		d.errs = append(d.errs, &FieldError{Source: Source{File: file, Line: err.line}, Detail: err.msg})
	}
	dir := baseDir(file)
	n := 0
	for _, doc := range docs {
		o, errs, empty := decodeDocument(file, n+1, doc, dir)
		if empty {
			continue
		}
		n++
		if len(errs) > 0 {
			d.errs = append(d.errs, errs...)
			d.partial = append(d.partial, o)
			continue
		}
		d.objects = append(d.objects, o)
	}
	return d
}

// baseDir is the folder relative paths in file are resolved against.
func baseDir(file string) string {
	dir := "."
	if file != "-" && file != "" {
		dir = filepath.Dir(file)
	}
	if abs, err := filepath.Abs(dir); err == nil {
		return abs
	}
	return dir
}

// document is one YAML document or JSON value and the file line it starts on.
type document struct {
	data []byte
	line int
}

type splitError struct {
	line int
	msg  string
}

// splitDocuments cuts a file into documents. A file whose first character
// is '{' is a JSON stream (one or more objects); anything else is YAML,
// split on lines that are "---" (optionally followed by a comment).
func splitDocuments(data []byte) ([]document, *splitError) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if trimmed := bytes.TrimLeft(data, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '{' {
		// A JSON stream, unless not even its first value is JSON: then it
		// is a YAML flow mapping like {kind: Volume, ...}.
		if docs, err := splitJSON(data); err == nil || len(docs) > 0 {
			return docs, err
		}
	}
	var docs []document
	start, startLine, line := 0, 1, 1
	for pos := 0; pos < len(data); line++ {
		end := bytes.IndexByte(data[pos:], '\n')
		next := len(data)
		if end >= 0 {
			next = pos + end + 1
		}
		if isSeparator(data[pos:next]) {
			docs = append(docs, document{data[start:pos], startLine})
			start, startLine = next, line+1
		}
		pos = next
	}
	return append(docs, document{data[start:], startLine}), nil
}

func isSeparator(line []byte) bool {
	rest, ok := bytes.CutPrefix(line, []byte("---"))
	if !ok {
		return false
	}
	rest = bytes.TrimSpace(rest)
	return len(rest) == 0 || rest[0] == '#' && len(line) > 3 && (line[3] == ' ' || line[3] == '\t')
}

func splitJSON(data []byte) ([]document, *splitError) {
	var docs []document
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		start := int(dec.InputOffset())
		var raw json.RawMessage
		err := dec.Decode(&raw)
		if err != nil {
			if err.Error() == "EOF" {
				return docs, nil
			}
			off := start
			var se *json.SyntaxError
			if errors.As(err, &se) {
				off = int(se.Offset)
			}
			return docs, &splitError{lineAt(data, off), "invalid JSON: " + strings.TrimPrefix(err.Error(), "json: ")}
		}
		for start < len(data) && strings.IndexByte(" \t\r\n", data[start]) >= 0 {
			start++
		}
		docs = append(docs, document{raw, lineAt(data, start)})
	}
}

func lineAt(data []byte, off int) int {
	off = min(max(off, 0), len(data))
	return bytes.Count(data[:off], []byte("\n")) + 1
}

// decodeDocument turns one document into an Object. On failure it returns
// the errors and whatever could be decoded (for Load's reference checks).
func decodeDocument(file string, n int, doc document, dir string) (o Object, errs ErrorList, empty bool) {
	src := Source{File: file, Document: n, Line: doc.line}
	j, err := yaml.YAMLToJSONStrict(doc.data)
	if err != nil {
		return Object{Source: src}, yamlErrors(src, err), false
	}
	if string(j) == "null" {
		return o, nil, true
	}
	lines := indexLines(doc.data, doc.line)
	if l := lines[""]; l > 0 {
		src.Line = l
	}
	o = Object{Source: src, lines: lines}
	fail := func(path, format string, args ...any) (Object, ErrorList, bool) {
		return o, ErrorList{o.errorAt(path, format, args...)}, false
	}

	var generic any
	dec := json.NewDecoder(bytes.NewReader(j))
	dec.UseNumber()
	if err := dec.Decode(&generic); err != nil {
		return fail("", "invalid document: %v", err)
	}
	m, ok := generic.(map[string]any)
	if !ok {
		return fail("", "a document must be a mapping with apiVersion, kind, metadata and spec, not %s", describe(generic))
	}
	typed, kindErr := newTyped(m["kind"])
	if kindErr != "" {
		return fail("kind", "%s", kindErr)
	}
	var fe, schema fieldErrs
	switch v := m["apiVersion"].(type) {
	case nil:
		fe.add("apiVersion", "is required: write apiVersion: %s", APIVersion)
	case string:
		if v != APIVersion {
			fe.add("apiVersion", "%q is not supported: use %s", v, APIVersion)
		}
	}
	checkSchema(m, reflect.TypeOf(typed).Elem(), "", &schema)
	// Decode what passed the schema check even after errors, so the
	// document's other problems are reported in the same run.
	o.set(typed)
	if pruned, err := json.Marshal(m); err != nil || json.Unmarshal(pruned, typed) != nil {
		// Cannot happen after checkSchema; report rather than guess.
		schema.add("", "invalid document: cannot decode %s", o.Kind)
		o.applyDefaults()
		return o, o.errorList(append(fe, schema...)), false
	}
	o.applyDefaults()
	var invalid fieldErrs
	o.validate(&invalid)
	fe = append(fe, dropRelated(invalid, schema)...)
	fe = append(fe, schema...)
	if len(fe) > 0 {
		return o, o.errorList(fe), false
	}
	o.resolvePaths(dir)
	o.Hash = Hash(o)
	return o, nil, false
}

// newTyped returns a pointer to the Go type of kind, or why there is none.
func newTyped(kind any) (any, string) {
	switch kind {
	case KindContainer:
		return &Container{}, ""
	case KindImage:
		return &Image{}, ""
	case KindVolume:
		return &Volume{}, ""
	case KindHost:
		return &Host{}, ""
	case nil:
		return nil, fmt.Sprintf("is required: one of %s", kindList)
	}
	s, ok := kind.(string)
	if !ok {
		return nil, fmt.Sprintf("must be one of %s, not %s", kindList, describe(kind))
	}
	for _, k := range []string{KindContainer, KindImage, KindVolume, KindHost} {
		if strings.EqualFold(s, k) {
			return nil, fmt.Sprintf("%q is not a kind: did you mean %s?", s, k)
		}
	}
	return nil, fmt.Sprintf("%q is not a kind: use one of %s", s, kindList)
}

const kindList = "Container, Image, Volume, Host"

// dropRelated removes validation errors that only echo a schema error: a
// bad value pruned from the document, or a required field reported
// missing next to an unknown one ("mountpath" makes "mountPath: is
// required" noise).
func dropRelated(all, schema fieldErrs) fieldErrs {
	related := func(e fieldErr) bool {
		for _, s := range schema {
			if e.path == s.path || strings.HasPrefix(e.path, s.path+".") || strings.HasPrefix(e.path, s.path+"[") {
				return true
			}
			if strings.HasPrefix(s.detail, "unknown field") && strings.HasPrefix(e.detail, "is required") &&
				parentPath(e.path) == parentPath(s.path) {
				return true
			}
		}
		return false
	}
	var out fieldErrs
	for _, e := range all {
		if !related(e) {
			out = append(out, e)
		}
	}
	return out
}

// errorList attaches the object's source and each field's line, in line order.
func (o *Object) errorList(fe fieldErrs) ErrorList {
	errs := make(ErrorList, len(fe))
	for i, e := range fe {
		errs[i] = o.errorAt(e.path, "%s", e.detail)
	}
	sort.SliceStable(errs, func(i, j int) bool { return errs[i].Source.Line < errs[j].Source.Line })
	return errs
}

func (o *Object) errorAt(path, format string, args ...any) *FieldError {
	src := o.Source
	if l := o.lines.line(path); l > 0 {
		src.Line = l
	}
	return &FieldError{Source: src, Field: path, Detail: fmt.Sprintf(format, args...)}
}

var yamlLine = regexp.MustCompile(`^line (\d+): (.*)$`)

// yamlErrors turns the YAML parser's messages into errors at file lines.
func yamlErrors(src Source, err error) ErrorList {
	msg := strings.TrimPrefix(err.Error(), "error converting YAML to JSON: ")
	msg = strings.TrimPrefix(msg, "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	var errs ErrorList
	for _, part := range strings.Split(msg, "\n") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		s := src
		if m := yamlLine.FindStringSubmatch(part); m != nil {
			n, _ := strconv.Atoi(m[1])
			s.Line, part = src.Line+n-1, m[2]
		}
		errs = append(errs, &FieldError{Source: s, Detail: "invalid YAML: " + part})
	}
	return errs
}

// resolvePaths makes the file paths in an object absolute, relative to dir.
func (o *Object) resolvePaths(dir string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	switch {
	case o.Image != nil && o.Image.Spec.Build != nil:
		abs(&o.Image.Spec.Build.Context)
	case o.Image != nil && o.Image.Spec.Import != nil:
		abs(&o.Image.Spec.Import.Path)
	case o.HostObj != nil && o.HostObj.Spec.TLS != nil:
		abs(&o.HostObj.Spec.TLS.CAFile)
		abs(&o.HostObj.Spec.TLS.CertFile)
		abs(&o.HostObj.Spec.TLS.KeyFile)
	}
}
