package shim

import (
	"os"

	"github.com/reconciler/reconciler/internal/plainfile"
	"github.com/reconciler/reconciler/runtime/sandbox"
)

// A spare shim does the container-independent half of its first start
// while it waits for a container: it starts the container's init (see
// sandbox.Prestart) with the pipes of the first run, so an assigned start
// only finishes it. A shim assigned a test launcher, or whose prestart
// failed, starts the usual way.

// runPipes are a piped run's streams: the container's ends (inR, outW,
// errW) and the shim's (inW, outR, errR). inR and inW are nil without
// OpenStdin.
type runPipes struct {
	inR, inW, outR, outW, errR, errW *os.File
}

func newRunPipes(stdin bool) (*runPipes, error) {
	p := &runPipes{}
	var err error
	if p.outR, p.outW, err = plainfile.PipeFrom(); err == nil {
		if p.errR, p.errW, err = plainfile.PipeFrom(); err == nil && stdin {
			p.inR, p.inW, err = plainfile.PipeTo()
		}
	}
	if err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// dropStdin closes the stdin pipe of a run without OpenStdin.
func (p *runPipes) dropStdin() {
	for _, f := range []*os.File{p.inR, p.inW} {
		if f != nil {
			f.Close()
		}
	}
	p.inR, p.inW = nil, nil
}

func (p *runPipes) close() {
	p.dropStdin()
	for _, f := range []*os.File{p.outR, p.outW, p.errR, p.errW} {
		if f != nil {
			f.Close()
		}
	}
}

// prestarted is an init started before the shim knew its container.
type prestarted struct {
	init  *sandbox.Pending
	pipes *runPipes // the init's streams, with stdin in case it is wanted
}

// prestart returns nil and the error when the init cannot be prestarted.
// rootfsDir is where the container's root will be mounted, if known.
func prestart(rootfsDir string) (*prestarted, error) {
	pipes, err := newRunPipes(true)
	if err != nil {
		return nil, err
	}
	init, err := sandbox.Prestart(sandbox.PrestartConfig{Stdin: pipes.inR, Stdout: pipes.outW, Stderr: pipes.errW, RootfsDir: rootfsDir})
	if err != nil {
		pipes.close()
		return nil, err
	}
	return &prestarted{init: init, pipes: pipes}, nil
}

func (p *prestarted) discard() {
	if p != nil {
		p.init.Discard()
		p.pipes.close()
	}
}

// prestartedLauncher starts the first run on the prestarted init (with
// its pipes: see shim.takePipes) and later runs as sandboxLauncher does.
type prestartedLauncher struct {
	sandboxLauncher
	pending *sandbox.Pending // nil once used
}

func (l *prestartedLauncher) start(dir string, c *Config, stdin, stdout, stderr *os.File, h runHooks) (process, error) {
	p := l.pending
	if p == nil {
		return l.sandboxLauncher.start(dir, c, stdin, stdout, stderr, h)
	}
	l.pending = nil
	return startSandbox(p.Start, dir, c, stdin, stdout, stderr, h)
}

func (l *prestartedLauncher) discard() {
	if l.pending != nil {
		l.pending.Discard()
		l.pending = nil
	}
}
