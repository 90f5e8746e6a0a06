package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
)

// errNoRunner is returned by a RUN step that must execute without a Runner.
var errNoRunner = errors.New("RUN needs a container runner and this build has none; build on an engine with the container runtime, or remove the RUN step")

// outputTail is how much of a failed RUN's output its error message keeps.
const outputTail = 8 << 10

// run executes RUN through the Runner on an overlay of the stage's layers
// and stores the upper directory's changes as a new layer.
func (b *builder) run(ctx context.Context, st *stage, c *instructions.RunCommand) error {
	if len(instructions.GetMounts(c)) > 0 {
		return errors.New("RUN --mount is not supported by this builder")
	}
	network := "none"
	switch n := instructions.GetNetwork(c); n {
	case instructions.NetworkDefault, instructions.NetworkNone:
	case instructions.NetworkHost:
		network = "host"
	default:
		return fmt.Errorf("RUN --network=%s: use none (the default) or host", n)
	}
	if instructions.GetSecurity(c) == instructions.SecurityInsecure {
		return errors.New("RUN --security=insecure is not supported by this builder")
	}
	argv, err := st.commandLine(c.ShellDependantCmdLine)
	if err != nil {
		return err
	}
	if len(argv) == 0 {
		return errors.New("RUN has no command")
	}
	argPairs := st.args.pairs()
	e := newEnv(&st.args, st.cfg.Config.Env)
	envList := make([]string, 0, len(e.keys))
	for _, k := range e.keys {
		envList = append(envList, k+"="+e.vars[k])
	}
	createdBy := strings.Join(argv, " ")
	if len(argPairs) > 0 {
		createdBy = fmt.Sprintf("|%d %s %s", len(argPairs), strings.Join(argPairs, " "), createdBy)
	}
	cwd := st.cfg.Config.WorkingDir
	if cwd == "" {
		cwd = "/"
	}
	req := RunRequest{Args: argv, Env: envList, Cwd: cwd, User: st.cfg.Config.User, Network: network}
	img := st.img
	layer := func(ctx context.Context, w io.Writer) error {
		if b.opts.Runner == nil {
			return errNoRunner
		}
		tmp, release, err := b.s.TempDir("build-run-")
		if err != nil {
			return fmt.Errorf("RUN scratch folder: %w", err)
		}
		defer release()
		req.UpperDir, req.WorkDir = filepath.Join(tmp, "upper"), filepath.Join(tmp, "work")
		for _, d := range []string{req.UpperDir, req.WorkDir} {
			if err := os.Mkdir(d, 0o755); err != nil {
				return err
			}
		}
		if img != nil && len(img.Layers) > 0 {
			if req.LowerDirs, err = b.s.LowerDirs(img); err != nil {
				return err
			}
		} else { // overlayfs needs a lower directory: an empty one is scratch
			empty := filepath.Join(tmp, "empty")
			if err := os.Mkdir(empty, 0o755); err != nil {
				return err
			}
			req.LowerDirs = []string{empty}
		}
		tail := &tailBuffer{max: outputTail}
		req.Output = io.MultiWriter(b.out.w, tail)
		b.out.linef("Running in %s", filepath.Base(tmp))
		if err := b.opts.Runner.Run(ctx, req); err != nil {
			out := strings.TrimRight(tail.String(), "\n")
			if out == "" {
				return fmt.Errorf("command %q failed: %w (no output)", argv, err)
			}
			return fmt.Errorf("command %q failed: %w; its output ended with:\n%s", argv, err, out)
		}
		return b.s.DiffDir(ctx, req.UpperDir, w)
	}
	return b.commit(ctx, st, c, change{
		inputs:    fmt.Sprintf("argv=%q args=%q network=%s", argv, argPairs, network),
		layer:     layer,
		createdBy: createdBy,
	})
}
