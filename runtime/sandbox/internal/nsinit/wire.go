package nsinit

import (
	"encoding/binary"
	"errors"
	"strconv"
	"strings"
	"syscall"
)

// Mount is a bind or tmpfs mount inside the container.
type Mount struct {
	Type     string // "bind" or "tmpfs"
	Source   string
	Target   string
	ReadOnly bool
	Size     int64
	Mode     uint32
	SubPath  string
}

// Spec is what the parent tells the init or exec helper.
type Spec struct {
	LowerDirs                    []string // base first
	UpperDir, WorkDir, RootfsDir string
	Mounts                       []Mount
	Files                        []File // attached before Mounts
	Args, Env                    []string
	Cwd, User, Hostname          string
	Network                      string
	// Tty: the program gets a terminal (see setupConsole) of Rows x Cols
	// (0: unset) from its start.
	Tty        bool
	Rows, Cols uint16
	// NullStdin replaces the helper's stdin with /dev/null (an init
	// started ahead of need got a pipe it turned out not to need).
	NullStdin bool
	// JoinHostNet makes an init that was started in a new network
	// namespace join the one open at NetNSFD instead (NetworkHost).
	JoinHostNet bool
	// ReadOnly remounts the root read-only once everything is mounted;
	// Files are read-only too (docker run --read-only).
	ReadOnly bool
	// ShmSize is /dev/shm's size in bytes (0: 64 MiB).
	ShmSize int64
	// Rlimits are set before the program runs (docker run --ulimit).
	Rlimits []Rlimit
	// CapDrop are capabilities (a bit mask) taken from DefaultCaps.
	CapDrop uint64
	// OOMScoreAdj, if not 0, is written to the init's oom_score_adj.
	OOMScoreAdj int
	// Volatile mounts the overlay with overlayfs's volatile option (see
	// sandbox.Config.Volatile), clearing the mark an earlier volatile
	// mount of WorkDir left.
	Volatile bool
	// BindFDs, never sent to an init, are Mounts' bind sources captured
	// ahead by the launching process (CloneBinds, one per mount, -1 for
	// other types), which the launch attaches and closes; nil: the launch
	// captures them itself.
	BindFDs []int
}

// Rlimit is one resource limit; Name (Docker's) is for error messages.
type Rlimit struct {
	Name       string
	Resource   int
	Soft, Hard uint64
}

// The wire format is a list of (tag, length-prefixed string) records, so
// neither side needs encoding/json (see the package comment).
const (
	tLower = 'L' + iota
	tUpper
	tWork
	tRootfs
	tMountType
	tMountSource
	tMountTarget
	tMountRO
	tMountSize
	tArg
	tEnv
	tCwd
	tUser
	tHostname
	tNetwork
	tTty
	tRows
	tCols
	tNullStdin
	tJoinHostNet
	tFileTarget
	tFileData
	tReadOnly
	tShmSize
	tRlimit
	tCapDrop
	tOOMScoreAdj
	tMountMode
	tMountSubPath
	tVolatile
)

type encoder []byte

func (e *encoder) put(tag byte, v string) {
	*e = append(*e, tag)
	*e = binary.AppendUvarint(*e, uint64(len(v)))
	*e = append(*e, v...)
}

func (e *encoder) opt(tag byte, v string) {
	if v != "" {
		e.put(tag, v)
	}
}

// Marshal encodes s.
func (s *Spec) Marshal() []byte {
	var e encoder
	for _, d := range s.LowerDirs {
		e.put(tLower, d)
	}
	e.opt(tUpper, s.UpperDir)
	e.opt(tWork, s.WorkDir)
	e.opt(tRootfs, s.RootfsDir)
	for _, m := range s.Mounts {
		e.put(tMountType, m.Type) // starts a new mount
		e.put(tMountSource, m.Source)
		e.put(tMountTarget, m.Target)
		if m.ReadOnly {
			e.put(tMountRO, "1")
		}
		if m.Size > 0 {
			e.put(tMountSize, strconv.FormatInt(m.Size, 10))
		}
		if m.Mode != 0 {
			e.put(tMountMode, strconv.FormatUint(uint64(m.Mode), 8))
		}
		e.opt(tMountSubPath, m.SubPath)
	}
	for _, f := range s.Files {
		e.put(tFileTarget, f.Target) // starts a new file
		e.put(tFileData, f.Data)
	}
	for _, a := range s.Args {
		e.put(tArg, a)
	}
	for _, v := range s.Env {
		e.put(tEnv, v)
	}
	e.opt(tCwd, s.Cwd)
	e.opt(tUser, s.User)
	e.opt(tHostname, s.Hostname)
	e.opt(tNetwork, s.Network)
	if s.Tty {
		e.put(tTty, "1")
		e.put(tRows, strconv.Itoa(int(s.Rows)))
		e.put(tCols, strconv.Itoa(int(s.Cols)))
	}
	if s.NullStdin {
		e.put(tNullStdin, "1")
	}
	if s.JoinHostNet {
		e.put(tJoinHostNet, "1")
	}
	if s.ReadOnly {
		e.put(tReadOnly, "1")
	}
	if s.ShmSize > 0 {
		e.put(tShmSize, strconv.FormatInt(s.ShmSize, 10))
	}
	for _, r := range s.Rlimits {
		e.put(tRlimit, r.Name+" "+strconv.Itoa(r.Resource)+" "+strconv.FormatUint(r.Soft, 10)+" "+strconv.FormatUint(r.Hard, 10))
	}
	if s.CapDrop != 0 {
		e.put(tCapDrop, strconv.FormatUint(s.CapDrop, 10))
	}
	if s.OOMScoreAdj != 0 {
		e.put(tOOMScoreAdj, strconv.Itoa(s.OOMScoreAdj))
	}
	if s.Volatile {
		e.put(tVolatile, "1")
	}
	return e
}

var errCorrupt = errors.New("corrupt sandbox config")

// parseRlimit reads "NAME RESOURCE SOFT HARD".
func parseRlimit(v string) (Rlimit, error) {
	f := strings.Fields(v)
	if len(f) != 4 {
		return Rlimit{}, errCorrupt
	}
	res, err1 := strconv.Atoi(f[1])
	soft, err2 := strconv.ParseUint(f[2], 10, 64)
	hard, err3 := strconv.ParseUint(f[3], 10, 64)
	if err1 != nil || err2 != nil || err3 != nil {
		return Rlimit{}, errCorrupt
	}
	return Rlimit{Name: f[0], Resource: res, Soft: soft, Hard: hard}, nil
}

// records calls fn for every record in b.
func records(b []byte, fn func(tag byte, v string) error) error {
	for len(b) > 0 {
		tag := b[0]
		n, k := binary.Uvarint(b[1:])
		if k <= 0 || uint64(len(b)-1-k) < n {
			return errCorrupt
		}
		if err := fn(tag, string(b[1+k:1+k+int(n)])); err != nil {
			return err
		}
		b = b[1+k+int(n):]
	}
	return nil
}

// Unmarshal decodes a Spec.
func Unmarshal(b []byte) (*Spec, error) {
	s := &Spec{}
	err := records(b, func(tag byte, v string) error {
		var m *Mount
		if len(s.Mounts) > 0 {
			m = &s.Mounts[len(s.Mounts)-1]
		}
		switch tag {
		case tLower:
			s.LowerDirs = append(s.LowerDirs, v)
		case tUpper:
			s.UpperDir = v
		case tWork:
			s.WorkDir = v
		case tRootfs:
			s.RootfsDir = v
		case tMountType:
			s.Mounts = append(s.Mounts, Mount{Type: v})
		case tMountSource, tMountTarget, tMountRO, tMountSize, tMountMode, tMountSubPath:
			if m == nil {
				return errCorrupt
			}
			switch tag {
			case tMountSource:
				m.Source = v
			case tMountTarget:
				m.Target = v
			case tMountRO:
				m.ReadOnly = v == "1"
			case tMountSize:
				n, err := strconv.ParseInt(v, 10, 64)
				if err != nil {
					return errCorrupt
				}
				m.Size = n
			case tMountMode:
				n, err := strconv.ParseUint(v, 8, 32)
				if err != nil {
					return errCorrupt
				}
				m.Mode = uint32(n)
			case tMountSubPath:
				m.SubPath = v
			}
		case tFileTarget:
			s.Files = append(s.Files, File{Target: v})
		case tFileData:
			if len(s.Files) == 0 {
				return errCorrupt
			}
			s.Files[len(s.Files)-1].Data = v
		case tArg:
			s.Args = append(s.Args, v)
		case tEnv:
			s.Env = append(s.Env, v)
		case tCwd:
			s.Cwd = v
		case tUser:
			s.User = v
		case tHostname:
			s.Hostname = v
		case tNetwork:
			s.Network = v
		case tTty:
			s.Tty = v == "1"
		case tNullStdin:
			s.NullStdin = v == "1"
		case tJoinHostNet:
			s.JoinHostNet = v == "1"
		case tReadOnly:
			s.ReadOnly = v == "1"
		case tVolatile:
			s.Volatile = v == "1"
		case tShmSize:
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return errCorrupt
			}
			s.ShmSize = n
		case tCapDrop:
			n, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				return errCorrupt
			}
			s.CapDrop = n
		case tOOMScoreAdj:
			n, err := strconv.Atoi(v)
			if err != nil {
				return errCorrupt
			}
			s.OOMScoreAdj = n
		case tRlimit:
			r, err := parseRlimit(v)
			if err != nil {
				return err
			}
			s.Rlimits = append(s.Rlimits, r)
		case tRows, tCols:
			n, err := strconv.ParseUint(v, 10, 16)
			if err != nil {
				return errCorrupt
			}
			if tag == tRows {
				s.Rows = uint16(n)
			} else {
				s.Cols = uint16(n)
			}
		default:
			return errCorrupt
		}
		return nil
	})
	return s, err
}

// Failure is why the init or exec helper could not run the program.
// Program marks failures of the program itself (not found, not
// executable), as opposed to the container's setup.
type Failure struct {
	Msg      string
	Program  bool
	Errno    syscall.Errno
	NotFound bool // not found in PATH
}

func (f *Failure) Error() string { return f.Msg }

const (
	tMsg = 'm' + iota
	tProgram
	tErrno
	tNotFound
)

// Marshal encodes f.
func (f *Failure) Marshal() []byte {
	var e encoder
	e.put(tMsg, f.Msg)
	if f.Program {
		e.put(tProgram, "1")
	}
	if f.Errno != 0 {
		e.put(tErrno, strconv.Itoa(int(f.Errno)))
	}
	if f.NotFound {
		e.put(tNotFound, "1")
	}
	return e
}

// UnmarshalFailure decodes a Failure; undecodable input becomes its text.
func UnmarshalFailure(b []byte) *Failure {
	f := &Failure{}
	err := records(b, func(tag byte, v string) error {
		switch tag {
		case tMsg:
			f.Msg = v
		case tProgram:
			f.Program = true
		case tErrno:
			n, _ := strconv.Atoi(v)
			f.Errno = syscall.Errno(n)
		case tNotFound:
			f.NotFound = true
		default:
			return errCorrupt
		}
		return nil
	})
	if err != nil || f.Msg == "" {
		return &Failure{Msg: string(b)}
	}
	return f
}

// FailureOf turns an error into what is sent to the parent (or, for a
// launch, returned).
func FailureOf(err error) *Failure {
	var f *Failure
	if errors.As(err, &f) {
		return f
	}
	return &Failure{Msg: err.Error()}
}
