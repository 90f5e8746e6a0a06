package fakebackend

import (
	"context"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"time"
)

// program is a fake process: it reads stdin, writes output, and returns an
// exit code. ctx ends when the process is signalled; signal() tells which.
type program func(ctx context.Context, p *proc) int

// proc is what a running program sees.
type proc struct {
	args           []string
	env            []string
	stdin          io.Reader // nil: no stdin
	stdout, stderr io.Writer
	signal         func() int // the signal that ended ctx (15, 9, ...)
}

// programs is the fake's tiny userland. sh -c understands a script of
// ";"-separated echo, "echo ... >&2", sleep, exit and cat commands.
var programs map[string]program

func init() {
	programs = map[string]program{
		"echo":  echoProg,
		"true":  func(context.Context, *proc) int { return 0 },
		"false": func(context.Context, *proc) int { return 1 },
		"sleep": sleepProg,
		"cat":   catProg,
		"env": func(_ context.Context, p *proc) int {
			for _, e := range p.env {
				fmt.Fprintln(p.stdout, e)
			}
			return 0
		},
		"sh": shProg,
	}
}

func run(ctx context.Context, p *proc) int {
	if len(p.args) == 0 {
		fmt.Fprintln(p.stdout, "no command given")
		return 126
	}
	prog, ok := programs[path.Base(p.args[0])]
	if !ok {
		// Like runc: the error text goes to the output, exit code 127
		// for a container (126 for exec is set by the caller).
		fmt.Fprintf(p.stdout, "exec: %q: executable file not found in $PATH\n", p.args[0])
		return 127
	}
	return prog(ctx, p)
}

func echoProg(_ context.Context, p *proc) int {
	fmt.Fprintln(p.stdout, strings.Join(p.args[1:], " "))
	return 0
}

func sleepProg(ctx context.Context, p *proc) int {
	d := time.Hour
	if len(p.args) > 1 {
		if f, err := strconv.ParseFloat(p.args[1], 64); err == nil {
			d = time.Duration(f * float64(time.Second))
		}
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return 0
	case <-ctx.Done():
		return 128 + p.signal()
	}
}

func catProg(ctx context.Context, p *proc) int {
	if p.stdin == nil {
		return 0
	}
	done := make(chan struct{})
	go func() {
		io.Copy(p.stdout, p.stdin)
		close(done)
	}()
	select {
	case <-done:
		return 0
	case <-ctx.Done():
		return 128 + p.signal()
	}
}

func shProg(ctx context.Context, p *proc) int {
	if len(p.args) < 3 || p.args[1] != "-c" {
		fmt.Fprintln(p.stderr, "sh: only sh -c SCRIPT is supported by the fake")
		return 2
	}
	code := 0
	for _, cmd := range strings.Split(p.args[2], ";") {
		f := strings.Fields(cmd)
		if len(f) == 0 {
			continue
		}
		if f[0] == "exit" {
			if len(f) > 1 {
				code, _ = strconv.Atoi(f[1])
			}
			return code
		}
		sub := *p
		if f[len(f)-1] == ">&2" {
			f = f[:len(f)-1]
			sub.stdout = p.stderr
		}
		sub.args = f
		if code = run(ctx, &sub); ctx.Err() != nil {
			return code
		}
	}
	return code
}
