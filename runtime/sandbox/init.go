package sandbox

import (
	"errors"
	"os/exec"

	"github.com/reconciler/reconciler/runtime/sandbox/internal/nsinit"
)

// InitPath is where Config.Init is bound inside the container: dockerd's
// docker-init path, so scripts that look for it find it.
const InitPath = "/sbin/docker-init"

// initNames are the inits FindInit looks for in PATH, in order: Debian's
// docker.io links docker-init to tini-static (package tini). A dynamic
// tini would not run in an image without its libc.
var initNames = []string{"docker-init", "tini-static"}

// ErrNoInit says no init binary is installed for --init.
var ErrNoInit = errors.New("no init binary (docker-init or tini-static) in PATH: install Debian's tini package")

// FindInit returns the host path of the init docker run --init runs as
// the container's PID 1 (Config.Init).
func FindInit() (string, error) {
	for _, n := range initNames {
		if p, err := exec.LookPath(n); err == nil {
			return p, nil
		}
	}
	return "", ErrNoInit
}

// addInit binds cfg.Init read-only (and nodev, as every bind) at
// InitPath, last so that it wins over a mount of /sbin, and runs it as
// PID 1 in front of the program: `docker-init -- ARGS`, as dockerd does.
func addInit(spec *nsinit.Spec, init string) {
	spec.Mounts = append(spec.Mounts, nsinit.Mount{Type: "bind", Source: init, Target: InitPath, ReadOnly: true})
	spec.Args = append([]string{InitPath, "--"}, spec.Args...)
}
