package shim

import (
	"errors"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/runtime/cgroups"
	"github.com/reconciler/reconciler/runtime/sandbox"
)

// sandboxLauncher starts containers isolated by runtime/sandbox: overlay
// root over the image layers and the container's upper dir, namespaces,
// cgroup limits.
type sandboxLauncher struct{}

// sandboxConfig maps a container's config onto the sandbox's.
func sandboxConfig(dir string, c *Config) sandbox.Config {
	s := c.Spec
	var mounts []sandbox.Mount
	for _, m := range append(append([]Mount(nil), c.EtcMounts...), s.Mounts...) {
		mounts = append(mounts, sandbox.Mount{Type: m.Type, Source: m.Source, Target: m.Target, ReadOnly: m.ReadOnly, Size: m.Size, Mode: m.Mode, SubPath: m.SubPath})
	}
	return sandbox.Config{
		ID:        s.ID,
		LowerDirs: s.LowerDirs,
		UpperDir:  filepath.Join(dir, UpperDir),
		WorkDir:   filepath.Join(dir, WorkDir),
		RootfsDir: filepath.Join(filepath.Dir(dir), MountPoint),
		Mounts:    mounts,
		Args:      s.Args,
		Env:       s.Env,
		Cwd:       s.Cwd,
		User:      s.User,
		Hostname:  s.Hostname,
		Network:   s.Network,
		Tty:       s.Tty,
		// The shim's copy holds the size a resize set last.
		ConsoleSize: s.ConsoleSize,
		Resources:   cgroupResources(s.Resources),

		ReadonlyRootfs: s.ReadonlyRootfs,
		ShmSize:        s.ShmSize,
		Ulimits:        SandboxUlimits(s.Ulimits),
		CapDrop:        s.CapDrop,
		Init:           s.Init,
		OOMScoreAdj:    s.OOMScoreAdj,
		Volatile:       s.Volatile,
	}
}

// CheckVolatileLayer refuses to mount the layer of a volatile container
// (in dir, last in state last) in a later boot than the one it was last
// mounted in: the host went down meanwhile, perhaps before the layer
// reached the disk. (In the same boot the page cache holds whatever the
// disk lacks.)
func CheckVolatileLayer(dir string, spec *Spec, last State) error {
	if !spec.Volatile || last.BootID == "" || last.BootID == BootID() || !sandbox.VolatileMarked(filepath.Join(dir, WorkDir)) {
		return nil
	}
	return errors.New("its layer skipped syncs to disk (docker run --rm) when the host went down, so it may be incomplete: remove the container")
}

func cgroupResources(r Resources) cgroups.Resources {
	return cgroups.Resources{MemoryBytes: r.MemoryBytes, NanoCPUs: r.NanoCPUs, PidsLimit: r.PidsLimit}
}

// SandboxUlimits converts ulimits for the sandbox (nil stays nil).
func SandboxUlimits(us []Ulimit) []sandbox.Ulimit {
	if us == nil {
		return nil
	}
	out := make([]sandbox.Ulimit, len(us))
	for i, u := range us {
		out[i] = sandbox.Ulimit(u)
	}
	return out
}

func (sandboxLauncher) start(dir string, c *Config, stdin, stdout, stderr *os.File, h runHooks) (process, error) {
	return startSandbox(sandbox.Start, dir, c, stdin, stdout, stderr, h)
}

// startSandbox calls start with c's sandbox config, the given streams and
// hooks (sandbox.Config.Forked and Hold).
func startSandbox(start func(sandbox.Config) (*sandbox.Process, error), dir string, c *Config, stdin, stdout, stderr *os.File, h runHooks) (process, error) {
	cfg := sandboxConfig(dir, c)
	if c.EtcFiles {
		s := c.Spec
		files, err := sandbox.EtcFiles(s.Hostname, s.Network, sandbox.Names{ExtraHosts: s.ExtraHosts, DNS: s.DNS, DNSSearch: s.DNSSearch, DNSOptions: s.DNSOptions})
		if err != nil {
			return nil, err
		}
		cfg.Files = files
	}
	cfg.Stdout, cfg.Stderr, cfg.Forked, cfg.Hold = stdout, stderr, h.forked, h.hold
	if stdin != nil {
		cfg.Stdin = stdin
	}
	p, err := start(cfg)
	if err != nil {
		return nil, err
	}
	return sandboxProcess{p}, nil
}

func (sandboxLauncher) cleanup(dir string, c *Config) error {
	return sandbox.Cleanup(sandboxConfig(dir, c))
}

type sandboxProcess struct{ p *sandbox.Process }

func (p sandboxProcess) pid() int                     { return p.p.Pid() }
func (p sandboxProcess) console() *os.File            { return p.p.Console() }
func (p sandboxProcess) signal(sig unix.Signal) error { return p.p.Signal(sig) }
func (p sandboxProcess) setResources(r Resources) error {
	return p.p.SetResources(cgroupResources(r))
}

func (p sandboxProcess) release() { p.p.ReleaseMounts() }

// wait returns at the exit, the mounts still held (release).
func (p sandboxProcess) wait() exitStatus {
	st, err := p.p.WaitExit()
	return exitStatus{code: st.Code, oomKilled: st.OOMKilled, err: err}
}
