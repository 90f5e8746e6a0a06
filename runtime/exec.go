package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/runtime/internal/shim"
	"github.com/reconciler/reconciler/runtime/sandbox"
)

// ExecSpec is a process to run inside a running container. Env is added
// to the container's; Cwd and User default to the container's.
type ExecSpec struct {
	Args           []string
	Env            []string
	Cwd            string
	User           string
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Tty runs it on a terminal of its own (docker exec -t): Stdout gets
	// the terminal's raw output, Stdin is typed into it, Stderr is unused.
	// ConsoleSize is its first height and width; sizes received on Resize
	// while it runs change it.
	Tty         bool
	ConsoleSize [2]uint
	Resize      <-chan [2]uint
}

// Exec runs a process in the container's namespaces and cgroup, waits for
// it and returns its exit code (128+N if killed by signal N). Cancelling
// ctx kills it.
func (r *Runtime) Exec(ctx context.Context, ref string, e ExecSpec) (int, error) {
	c, err := r.Inspect(ref)
	if err != nil {
		return 0, err
	}
	if len(e.Args) == 0 {
		return 0, fmt.Errorf("%w: exec in container %s: no command given", ErrInvalid, c.Name)
	}
	if c.State.Status != StateRunning || c.State.Pid == 0 {
		return 0, fmt.Errorf("%w: cannot exec in container %s (%s)", ErrNotRunning, c.Name, c.State.Status)
	}
	cfg, err := shim.ReadConfig(c.Dir)
	if err != nil {
		return 0, err
	}
	if cfg.Launcher != "" {
		return 0, fmt.Errorf("exec in container %s: launcher %q has no namespaces to enter", c.Name, cfg.Launcher)
	}
	ec := sandbox.ExecConfig{
		Args: e.Args, Env: MergeEnv(c.Spec.Env, e.Env), Cwd: e.Cwd, User: e.User,
		Stdin: e.Stdin, Stdout: e.Stdout, Stderr: e.Stderr, Tty: e.Tty, ConsoleSize: e.ConsoleSize,
		// Docker's exec runs with its container's limits and capabilities.
		Ulimits: shim.SandboxUlimits(cfg.Spec.Ulimits), CapDrop: cfg.Spec.CapDrop,
	}
	if ec.Cwd == "" {
		ec.Cwd = c.Spec.Cwd
	}
	if ec.User == "" {
		ec.User = c.Spec.User
	}
	proc, err := r.pinInit(c)
	if err != nil {
		return 0, fmt.Errorf("%w: cannot exec in container %s: it stopped", ErrNotRunning, c.Name)
	}
	p, err := sandbox.Exec(proc, ec)
	proc.Close()
	if err != nil {
		return 0, fmt.Errorf("exec in container %s: %w", c.Name, err)
	}
	// Docker's action names carry the command.
	r.events.publish(r.event(c, "exec_start: "+strings.Join(e.Args, " "), nil))
	stop := context.AfterFunc(ctx, func() { p.Signal(unix.SIGKILL) })
	defer stop()
	finish := func() {}
	if console := p.Console(); console != nil {
		finish = execConsole(console, e)
	}
	st, err := p.Wait()
	finish()
	if err != nil {
		return 0, fmt.Errorf("exec in container %s: %w", c.Name, err)
	}
	r.events.publish(r.event(c, "exec_die", map[string]string{"exitCode": fmt.Sprint(st.Code)}))
	if ctx.Err() != nil {
		return st.Code, ctx.Err()
	}
	return st.Code, nil
}

// OnceSpec is one process run like a container, without a shim or state:
// a Dockerfile RUN step. Its fields match layerstore/build.RunRequest, so
// an adapter is a field-by-field copy.
type OnceSpec struct {
	LowerDirs         []string // base first
	UpperDir, WorkDir string   // empty dirs on one file system, made by the caller
	Args              []string
	Env               []string
	Cwd               string
	User              string
	Network           string // "none" (default) or "host"
	Output            io.Writer
}

// RunOnce mounts a volatile overlay (see sandbox.Config.Volatile) of
// LowerDirs and UpperDir, runs Args isolated as a container, streams
// stdout and stderr to Output and cleans up. A non-zero exit is a
// *sandbox.ExitError (ExitCode() int). Cancelling ctx kills the process.
func (r *Runtime) RunOnce(ctx context.Context, o OnceSpec) error {
	if len(o.Args) == 0 {
		return fmt.Errorf("%w: run: no command given", ErrInvalid)
	}
	rootfs, err := os.MkdirTemp(r.root, onceDirPrefix)
	if err != nil {
		return err
	}
	defer func() {
		if unmountUnder(rootfs) == nil {
			os.RemoveAll(rootfs)
		}
	}()
	var out io.Writer = io.Discard
	if o.Output != nil {
		out = &lockedWriter{w: o.Output}
	}
	return sandbox.Run(ctx, sandbox.Config{
		ID: newID(), LowerDirs: o.LowerDirs, UpperDir: o.UpperDir, WorkDir: o.WorkDir, RootfsDir: rootfs,
		Args: o.Args, Env: o.Env, Cwd: o.Cwd, User: o.User, Network: o.Network,
		Stdout: out, Stderr: out,
		// The upper dir is read into a layer once the step is done and
		// then thrown away: it need not reach the disk.
		Volatile: true,
	})
}

// onceDirPrefix names RunOnce's mount points under the root; New sweeps
// the ones a crash left behind.
const onceDirPrefix = ".run-"

// lockedWriter lets the stdout and stderr copiers share one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// ExitCode extracts the exit code from RunOnce's error (0 for nil, -1 if
// the process did not run to an exit).
func ExitCode(err error) int {
	if err == nil {
		return 0
	}
	var ee *sandbox.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	return -1
}
