package build

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
	"github.com/reconciler/reconciler/internal/dockerignore"
)

// dockerfile is a parsed Dockerfile with its build context.
type dockerfile struct {
	name     string // as the user named it, for messages ("Dockerfile:7: ...")
	stages   []instructions.Stage
	metaArgs []instructions.ArgCommand
	escape   rune
	context  *dirTree
}

// loadDockerfile reads the Dockerfile and the .dockerignore of a build
// (see package internal/dockerignore).
func loadDockerfile(contextDir, name string) (*dockerfile, error) {
	if contextDir == "" {
		return nil, errors.New("build: no context directory given")
	}
	if fi, err := os.Stat(contextDir); err != nil || !fi.IsDir() {
		return nil, fmt.Errorf("build: context %s is not a directory", contextDir)
	}
	if name == "" {
		name = "Dockerfile"
	}
	file := name
	if !filepath.IsAbs(file) {
		file = filepath.Join(contextDir, file)
	}
	src, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("build: reading the Dockerfile: %w", err)
	}
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, withLine(name, err)
	}
	for _, n := range res.AST.Children {
		if v := strings.ToUpper(n.Value); v != "ARG" {
			if v != "FROM" {
				return nil, fmt.Errorf("%s:%d: %s: a Dockerfile must start with FROM (after optional ARGs)", name, n.StartLine, v)
			}
			break
		}
	}
	stages, metaArgs, err := instructions.Parse(res.AST, linter.New(&linter.Config{}))
	if err != nil {
		return nil, withLine(name, err)
	}
	if len(stages) == 0 {
		return nil, fmt.Errorf("%s: no FROM instruction: a Dockerfile must start with FROM (after optional ARGs)", name)
	}
	patterns, _, err := dockerignore.Read(contextDir, file)
	if err != nil {
		return nil, fmt.Errorf("build: %w", err)
	}
	ctxTree, err := newDirTree(contextDir, patterns)
	if err != nil {
		return nil, err
	}
	return &dockerfile{name: name, stages: stages, metaArgs: metaArgs, escape: res.EscapeToken, context: ctxTree}, nil
}

// withLine prefixes a parse error with the file and line ("Dockerfile:3: ").
func withLine(name string, err error) error {
	var le *parser.LocationError
	if errors.As(err, &le) && len(le.Locations) > 0 && len(le.Locations[0]) > 0 {
		return fmt.Errorf("%s:%d: %w", name, le.Locations[0][0].Start.Line, le.Unwrap())
	}
	return fmt.Errorf("%s: %w", name, err)
}

// line is the first Dockerfile line of an instruction, for error messages.
func line(loc []parser.Range) int {
	if len(loc) == 0 {
		return 0
	}
	return loc[0].Start.Line
}

// stageIndex finds a stage by name (case-insensitive) or number among the
// first n stages.
func (d *dockerfile) stageIndex(ref string, n int) (int, bool) {
	if i, ok := instructions.HasStage(d.stages[:n], ref); ok {
		return i, true
	}
	var i int
	if _, err := fmt.Sscanf(ref, "%d", &i); err == nil && fmt.Sprint(i) == ref && i >= 0 && i < n {
		return i, true
	}
	return 0, false
}

// args holds the ARGs in scope, in declaration order, with their values.
type args struct {
	names  []string
	values map[string]string
}

func (a *args) set(name, value string) {
	if a.values == nil {
		a.values = map[string]string{}
	}
	if _, ok := a.values[name]; !ok {
		a.names = append(a.names, name)
	}
	a.values[name] = value
}

// pairs returns NAME=value for every ARG in scope, sorted by name.
func (a *args) pairs() []string {
	out := make([]string, 0, len(a.names))
	for _, n := range a.names {
		out = append(out, n+"="+a.values[n])
	}
	sort.Strings(out)
	return out
}

// env is what variable expansion and RUN see: ARGs, overridden by ENV (as
// in Docker, ENV wins over an ARG of the same name).
type env struct {
	vars map[string]string
	keys []string
}

func newEnv(a *args, imageEnv []string) *env {
	e := &env{vars: map[string]string{}}
	add := func(k, v string) {
		if _, ok := e.vars[k]; !ok {
			e.keys = append(e.keys, k)
		}
		e.vars[k] = v
	}
	if a != nil {
		for _, n := range a.names {
			add(n, a.values[n])
		}
	}
	for _, kv := range imageEnv {
		k, v, _ := strings.Cut(kv, "=")
		add(k, v)
	}
	return e
}

func (e *env) Get(k string) (string, bool) { v, ok := e.vars[k]; return v, ok }
func (e *env) Keys() []string              { return e.keys }

// expander returns the single-word expander instructions use.
func expander(escape rune, e shell.EnvGetter) instructions.SingleWordExpander {
	lex := shell.NewLex(escape)
	return func(word string) (string, error) {
		s, _, err := lex.ProcessWord(word, e)
		return s, err
	}
}
