package shim

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Assignment is what a runtime writes on a shim's assign pipe: the folder
// of the container to serve, how many Ps the shim's Go runtime gets for
// it (0: as it is) and, for a held assignment, the container's config.
//
// A held assignment is given at create, while the runtime still syncs
// the config to disk: the shim sets the container up (its root, its
// namespaces, its program exec'd and stopped before its first
// instruction, as an OCI runtime's create does) and waits for one more
// line. Go lets the program run: that is the start, and the state is
// recorded then, not before. Abort (or EOF) undoes the setup without
// recording anything: the container stays created, and the shim is free
// for another. A failure while held is reported only once Go comes, as
// the start's.
type Assignment struct {
	Dir   string
	Procs int
	// Config, for a held assignment (nil otherwise): config.json may not
	// be on disk yet.
	Config *Config
}

// Lines written after a held assignment.
const (
	holdGo    = "go"
	holdAbort = "abort"
)

// errHoldAborted ends a held start that will not go (see Assignment).
var errHoldAborted = errors.New("the start was called off before it went ahead")

// Write writes a on w.
func (a Assignment) Write(w io.Writer) error {
	line := strconv.Itoa(a.Procs)
	if a.Config != nil {
		line += ",held"
	}
	line += " " + a.Dir + "\n"
	if a.Config != nil {
		b, err := json.Marshal(a.Config)
		if err != nil {
			return err
		}
		line += string(b) + "\n"
	}
	_, err := io.WriteString(w, line)
	return err
}

// readAssignment reads what Write wrote.
func readAssignment(r *bufio.Reader) (Assignment, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return Assignment{}, err
	}
	head, dir, _ := strings.Cut(strings.TrimSuffix(line, "\n"), " ")
	procs, flags, _ := strings.Cut(head, ",")
	a := Assignment{Dir: dir}
	a.Procs, _ = strconv.Atoi(procs)
	if flags == "held" {
		b, err := r.ReadBytes('\n')
		if err != nil {
			return Assignment{}, err
		}
		a.Config = new(Config)
		if err := json.Unmarshal(b, a.Config); err != nil {
			return Assignment{}, fmt.Errorf("held assignment for %s: %w", dir, err)
		}
	}
	return a, nil
}

// GoAhead tells a shim holding a start (see Assignment) to let it run.
func GoAhead(w io.Writer) error { return writeLine(w, holdGo) }

// CallOff tells a shim holding a start to undo it.
func CallOff(w io.Writer) error { return writeLine(w, holdAbort) }

func writeLine(w io.Writer, s string) error {
	_, err := io.WriteString(w, s+"\n")
	return err
}

// awaitGo reads the line that ends a hold: nil for Go, errHoldAborted for
// anything else (EOF: the runtime went away).
func awaitGo(r *bufio.Reader) error {
	line, err := r.ReadString('\n')
	if err == nil && line == holdGo+"\n" {
		return nil
	}
	return errHoldAborted
}
