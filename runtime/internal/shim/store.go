package shim

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/reconciler/reconciler/internal/atomicfile"
	"github.com/reconciler/reconciler/internal/plainfile"
)

// Files in a container's directory (ROOT/<id>/).
const (
	ConfigFile = "config.json" // written at create; rewritten (atomically) only by a rename or an update
	StateFile  = "state.json"  // rewritten atomically on every transition
	// LogFile is in a directory of its own: log writes then wake no
	// watcher of the state file.
	LogFile     = "log/container.log"
	SockFile    = "shim.sock"
	ShimLogFile = "shim.log" // the shim's own stderr
	UpperDir    = "upper"
	WorkDir     = "work"
	// MountPoint, a folder beside the containers' folders, is where
	// every container's root file system is mounted, each inside its own
	// mount namespace (never in the host's): one folder for all, not one
	// more per container to create and delete.
	MountPoint = ".mnt"
)

// config is config.json: the Spec as created, plus what the shim needs.
type Config struct {
	Spec    Spec
	Created time.Time
	// Launcher selects how the shim starts the process: "" (the sandbox)
	// or "host" (a plain host process; tests of the lifecycle use it).
	Launcher string `json:",omitempty"`
	// EtcFiles gives the container its own /etc/hostname, /etc/hosts and
	// /etc/resolv.conf, made by the sandbox at every start.
	EtcFiles bool `json:",omitempty"`
	// EtcMounts put such files, written into DIR/etc at create by
	// earlier versions, in place before the Spec's mounts.
	EtcMounts []Mount `json:",omitempty"`
}

// WriteJSON writes v to path atomically (package atomicfile), so a reader
// (or a crash) sees the old or the new content, never a mix.
func WriteJSON(path string, v any) error {
	return writeJSON(path, v, (*atomicfile.File).Commit)
}

// WriteNewConfig writes a new container's config.json in dir, atomically
// and synced, but without syncing dir after the rename (atomicfile's
// CommitVolatile), as dockerd writes its containers' configs: a host crash
// within moments of the create may take the container back, never leave
// half a config. The next sync of a file created in dir (the first start's
// state) makes the rename durable too, on this file system with or without
// a journal. A create is then one sync, not two (0.4 ms here).
func WriteNewConfig(dir string, c Config) error {
	return writeJSON(filepath.Join(dir, ConfigFile), c, (*atomicfile.File).CommitVolatile)
}

func writeJSON(path string, v any, commit func(*atomicfile.File) error) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	f, err := atomicfile.Create(path, 0o600)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return commit(f)
}

func readJSON(path string, v any) error {
	b, err := plainfile.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func ReadConfig(dir string) (*Config, error) {
	var c Config
	if err := readJSON(filepath.Join(dir, ConfigFile), &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// ReadState reads state.json; a container that never started has none
// (one file less to write and sync at create) and is "created".
func ReadState(dir string) (State, error) {
	var s State
	err := readJSON(filepath.Join(dir, StateFile), &s)
	if errors.Is(err, os.ErrNotExist) {
		if _, cerr := os.Stat(filepath.Join(dir, ConfigFile)); cerr == nil {
			return State{Status: StateCreated}, nil
		}
	}
	return s, err
}

// PreparedState is a state written to a temporary file and synced in the
// background, to be put in place (Commit) or dropped (Abort) later: a
// start writes the running state while the init mounts, so that only the
// rename is left once the program runs.
type PreparedState struct {
	done chan struct{}
	f    *atomicfile.File
	err  error
}

// PrepareState starts writing s as dir's next state.
func PrepareState(dir string, s State) *PreparedState {
	p := &PreparedState{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		b, err := json.MarshalIndent(s, "", "  ")
		if err != nil {
			p.err = err
			return
		}
		path := filepath.Join(dir, StateFile)
		if p.f, p.err = atomicfile.Create(path, 0o600); p.err != nil {
			return
		}
		if _, err := p.f.Write(append(b, '\n')); err != nil {
			p.err = fmt.Errorf("write %s: %w", path, err)
			return
		}
		p.err = p.f.Sync()
	}()
	return p
}

// Commit puts the prepared state in place as WriteState would.
func (p *PreparedState) Commit() error {
	<-p.done
	if p.err != nil {
		p.Abort()
		return p.err
	}
	return commitState(p.f)
}

// Abort drops the prepared state; nil is a state never prepared.
func (p *PreparedState) Abort() {
	if p == nil {
		return
	}
	<-p.done
	if p.f != nil {
		p.f.Abort()
	}
}

// WriteState replaces state.json, atomically but without syncing the
// folder (atomicfile's CommitVolatile): a crash may bring back the
// previous state, which a crash makes stale anyway (the container is no
// longer running after one), and every start and exit spares a sync.
func WriteState(dir string, s State) error {
	return writeJSON(filepath.Join(dir, StateFile), s, (*atomicfile.File).CommitVolatile)
}

// writeState is WriteState for the shim, which writes its container's
// state on the paths of its start and exit: the previous state is
// deleted in the background (see commitState).
func writeState(dir string, s State) error {
	return writeJSON(filepath.Join(dir, StateFile), s, commitState)
}

// commitState commits f as WriteState does, and deletes the state it
// replaces in the background, off the caller's path (see
// atomicfile.File.CommitVolatileKeepingOld): on the state root's file
// system here, that was 0.1 to 1 ms of each rename.
func commitState(f *atomicfile.File) error {
	deleteOld, err := f.CommitVolatileKeepingOld()
	go deleteOld()
	return err
}
