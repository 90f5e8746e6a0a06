package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/reconciler/reconciler/layerstore"
)

// defaultShell is the shell of RUN, CMD and ENTRYPOINT in shell form.
var defaultShell = []string{"/bin/sh", "-c"}

// dispatch runs one instruction of a stage.
func (b *builder) dispatch(ctx context.Context, st *stage, cmd instructions.Command) error {
	if ex, ok := cmd.(instructions.SupportsSingleWordExpansion); ok {
		if err := ex.Expand(expander(b.df.escape, newEnv(&st.args, st.cfg.Config.Env))); err != nil {
			return err
		}
	}
	nop := nopCreatedBy(cmd)
	meta := func(edit func(*ocispec.ImageConfig)) error {
		return b.commit(ctx, st, cmd, change{config: edit, createdBy: nop})
	}
	switch c := cmd.(type) {
	case *instructions.EnvCommand:
		return meta(func(cfg *ocispec.ImageConfig) {
			for _, kv := range c.Env {
				cfg.Env = setEnv(cfg.Env, kv.Key, kv.Value)
			}
		})
	case *instructions.LabelCommand:
		return meta(func(cfg *ocispec.ImageConfig) {
			if cfg.Labels == nil {
				cfg.Labels = map[string]string{}
			}
			for _, kv := range c.Labels {
				cfg.Labels[kv.Key] = kv.Value
			}
		})
	case *instructions.MaintainerCommand:
		return b.commit(ctx, st, cmd, change{author: &c.Maintainer, createdBy: nop})
	case *instructions.UserCommand:
		return meta(func(cfg *ocispec.ImageConfig) { cfg.User = c.User })
	case *instructions.StopSignalCommand:
		return meta(func(cfg *ocispec.ImageConfig) { cfg.StopSignal = c.Signal })
	case *instructions.ExposeCommand:
		ports, err := exposedPorts(c.Ports, expander(b.df.escape, newEnv(&st.args, st.cfg.Config.Env)))
		if err != nil {
			return err
		}
		return meta(func(cfg *ocispec.ImageConfig) {
			if cfg.ExposedPorts == nil {
				cfg.ExposedPorts = map[string]struct{}{}
			}
			for _, p := range ports {
				cfg.ExposedPorts[p] = struct{}{}
			}
		})
	case *instructions.VolumeCommand:
		return meta(func(cfg *ocispec.ImageConfig) {
			if cfg.Volumes == nil {
				cfg.Volumes = map[string]struct{}{}
			}
			for _, v := range c.Volumes {
				cfg.Volumes[v] = struct{}{}
			}
		})
	case *instructions.CmdCommand:
		args, err := st.commandLine(c.ShellDependantCmdLine)
		if err != nil {
			return err
		}
		st.cmdSet = true
		// The argv (after SHELL) is an input: the shell is stage state, not
		// part of the parent image.
		return b.commit(ctx, st, cmd, change{config: func(cfg *ocispec.ImageConfig) { cfg.Cmd = args },
			inputs: fmt.Sprintf("argv=%q", args), createdBy: nop})
	case *instructions.EntrypointCommand:
		args, err := st.commandLine(c.ShellDependantCmdLine)
		if err != nil {
			return err
		}
		keepCmd := st.cmdSet
		return b.commit(ctx, st, cmd, change{config: func(cfg *ocispec.ImageConfig) {
			cfg.Entrypoint = args
			if !keepCmd {
				cfg.Cmd = nil // a base image's CMD does not fit a new ENTRYPOINT
			}
		}, inputs: fmt.Sprintf("argv=%q keepCmd=%v", args, keepCmd), createdBy: nop})
	case *instructions.ShellCommand:
		st.shell = append([]string(nil), c.Shell...)
		return meta(nil)
	case *instructions.ArgCommand:
		b.arg(st, c)
		// The values (a --build-arg may override the default) are inputs.
		return b.commit(ctx, st, cmd, change{inputs: strings.Join(st.args.pairs(), "\n"), createdBy: nop})
	case *instructions.WorkdirCommand:
		return b.workdir(ctx, st, c)
	case *instructions.CopyCommand:
		return b.copy(ctx, st, c, c.SourcesAndDest, copyFlags{from: c.From, chown: c.Chown, chmod: c.Chmod, exclude: c.ExcludePatterns, parents: c.Parents})
	case *instructions.AddCommand:
		if c.Checksum != "" || c.KeepGitDir != nil {
			return errors.New("ADD --checksum and --keep-git-dir apply to remote sources, which this builder does not fetch (no network access)")
		}
		unpack := c.Unpack == nil || *c.Unpack
		return b.copy(ctx, st, c, c.SourcesAndDest, copyFlags{add: unpack, chown: c.Chown, chmod: c.Chmod, exclude: c.ExcludePatterns})
	case *instructions.RunCommand:
		return b.run(ctx, st, c)
	case *instructions.HealthCheckCommand:
		return errors.New("HEALTHCHECK is not supported: OCI image configs have no healthcheck field; set the check in the container's manifest instead")
	case *instructions.OnbuildCommand:
		return errors.New("ONBUILD is not supported by this builder")
	default:
		return fmt.Errorf("instruction %s is not supported by this builder", strings.ToUpper(cmd.Name()))
	}
}

func setEnv(envs []string, k, v string) []string {
	for i, kv := range envs {
		if name, _, _ := strings.Cut(kv, "="); name == k {
			envs[i] = k + "=" + v
			return envs
		}
	}
	return append(envs, k+"="+v)
}

// commandLine turns CMD/ENTRYPOINT/RUN into argv: exec form as written,
// shell form through the stage's shell.
func (st *stage) commandLine(c instructions.ShellDependantCmdLine) ([]string, error) {
	if len(c.Files) > 0 {
		return nil, errors.New("heredocs are not supported here; put the script in a file and COPY it")
	}
	if !c.PrependShell {
		return append([]string(nil), c.CmdLine...), nil
	}
	sh := st.shell
	if len(sh) == 0 {
		sh = defaultShell
	}
	return append(append([]string(nil), sh...), strings.Join(c.CmdLine, " ")), nil
}

// exposedPorts spells EXPOSE arguments as image config keys ("80/tcp"),
// expanding ranges ("8000-8002/udp").
func exposedPorts(specs []string, expand instructions.SingleWordExpander) ([]string, error) {
	var out []string
	for _, s := range specs {
		s, err := expand(s)
		if err != nil {
			return nil, err
		}
		ports, proto, _ := strings.Cut(s, "/")
		if proto == "" {
			proto = "tcp"
		}
		proto = strings.ToLower(proto)
		if proto != "tcp" && proto != "udp" && proto != "sctp" {
			return nil, fmt.Errorf("invalid protocol %q in %q: use tcp, udp or sctp", proto, s)
		}
		lo, hi, isRange := strings.Cut(ports, "-")
		if !isRange {
			hi = lo
		}
		first, err1 := strconv.ParseUint(lo, 10, 16)
		last, err2 := strconv.ParseUint(hi, 10, 16)
		if err1 != nil || err2 != nil || first == 0 || last < first {
			return nil, fmt.Errorf("invalid port %q: want PORT[/PROTO] or FIRST-LAST[/PROTO]", s)
		}
		for p := first; p <= last; p++ {
			out = append(out, fmt.Sprintf("%d/%s", p, proto))
		}
	}
	return out, nil
}

// arg declares ARGs in the stage: --build-arg wins, then the default, then
// the value of a meta ARG of the same name.
func (b *builder) arg(st *stage, c *instructions.ArgCommand) {
	for _, kv := range c.Args {
		b.declared[kv.Key] = true
		switch v, ok := b.opts.BuildArgs[kv.Key]; {
		case ok:
			st.args.set(kv.Key, v)
		case kv.Value != nil:
			st.args.set(kv.Key, *kv.Value)
		default:
			if v, ok := b.meta.values[kv.Key]; ok {
				st.args.set(kv.Key, v)
			}
		}
	}
}

// absPath makes a path absolute against the stage's working directory,
// keeping a trailing "/" (which means "a directory").
func (st *stage) absPath(p string) string {
	if path.IsAbs(p) {
		return p
	}
	wd := st.cfg.Config.WorkingDir
	if wd == "" {
		wd = "/"
	}
	out := path.Join(wd, p)
	if strings.HasSuffix(p, "/") || p == "." || strings.HasSuffix(p, "/.") {
		out += "/"
	}
	return out
}

// tree is the filesystem of the stage's current image.
func (b *builder) tree(img *layerstore.Image) (tree, error) {
	if img == nil || len(img.Layers) == 0 {
		return emptyTree{}, nil
	}
	dirs, err := b.s.LowerDirs(img)
	if err != nil {
		return nil, err
	}
	return newLayerTree(dirs), nil
}

// workdir sets the working directory and, as Docker does, creates it in a
// new layer when the image does not have it yet.
func (b *builder) workdir(ctx context.Context, st *stage, c *instructions.WorkdirCommand) error {
	dir := strings.TrimSuffix(st.absPath(c.Path), "/")
	if dir == "" {
		dir = "/"
	}
	t, err := b.tree(st.img)
	if err != nil {
		return err
	}
	ch := change{
		config:    func(cfg *ocispec.ImageConfig) { cfg.WorkingDir = dir },
		createdBy: nopCreatedBy(c),
	}
	if _, n, err := resolve(t, dir, true); err != nil || !n.fi.IsDir() {
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		p := &plan{index: map[string]int{}}
		if err := addParents(p, copySpec{instr: "WORKDIR"}, t, resolvedOrRaw(t, dir)); err != nil {
			return err
		}
		if ch.inputs, err = p.digest(); err != nil {
			return err
		}
		ch.layer = func(_ context.Context, w io.Writer) error { return p.writeTar(w) }
	}
	return b.commit(ctx, st, c, ch)
}

// resolvedOrRaw resolves symlinks in the existing part of p, so a new
// directory below a symlinked one is created at the link's target.
func resolvedOrRaw(t tree, p string) string {
	r, _, _ := resolve(t, p, true)
	return r
}
