// Package nsinit is what runs inside a new container before the user's
// program: the container's init (mounts, pivot_root, hostname, loopback)
// and the exec helper, both ending with the user, capabilities,
// no_new_privs and the execve of the program; or the same work done on
// threads of the runtime, which then fork the program (Launch).
//
// It runs from this package's init function, selected by the RoleEnv
// environment variable, and never returns there. Go initializes a package
// as soon as its imports are ready; this one imports only syscall-level
// packages (no os, no fmt), so it runs before the heavy packages of the
// reconciler binary (registries, protobuf, prometheus, ...) would spend
// milliseconds initializing: the container starts in about the time a
// minimal Go program does. For that reason it must never import os, fmt,
// encoding/json or anything built on them.
package nsinit

import (
	"errors"
	"runtime"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// The protocol between the parent (package sandbox) and this code.
const (
	// RoleEnv selects the role: RoleInit or RoleExec.
	RoleEnv  = "_RECONCILER_SANDBOX_ROLE"
	RoleInit = "init"
	RoleExec = "exec"
	// ConfigFD carries the Spec (parent writes, then closes); StatusFD is
	// close-on-exec: EOF means the program was exec'd, anything else is
	// a Failure.
	ConfigFD = 3
	StatusFD = 4
	// MountNSFD is, for RoleExec, the container's mount namespace;
	// NetNSFD, the same slot for RoleInit, the host's network namespace
	// (see Spec.JoinHostNet). Either is closed before the program runs.
	MountNSFD = 5
	NetNSFD   = 5
	// DefaultPath is Docker's PATH when the image and the user set none.
	DefaultPath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	// NetworkHost keeps the host's network namespace (no loopback setup).
	NetworkHost = "host"
)

func init() {
	role, ok := syscall.Getenv(RoleEnv)
	if !ok {
		return
	}
	// Capabilities, the bounding set and no_new_privs are per thread:
	// everything happens on the thread that finally calls execve.
	runtime.LockOSThread()
	// Not dumpable: processes of the container, which may see this one in
	// its PID namespace, cannot ptrace it or open its /proc files (its
	// root, its exe) while it is still privileged. execve resets it.
	unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	err := run(role)
	syscall.Write(StatusFD, FailureOf(err).Marshal())
	syscall.Exit(1)
}

// run only returns on failure.
func run(role string) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errors.New("panic in container init: " + panicString(r))
		}
	}()
	syscall.CloseOnExec(StatusFD)
	// What the parent may pass beyond the config and status pipes never
	// reaches the program.
	syscall.CloseOnExec(NetNSFD)
	syscall.CloseOnExec(ConsoleFD)
	// Modes are given whole (the device nodes are 0666); the program
	// gets Docker's 022 back.
	syscall.Umask(0)
	// A prestarted init stages while it waits for its spec; a failed
	// stage is made again, the usual way, once the spec is known. Its
	// network namespace is new as well (it joins the host's later if
	// asked), so lo can come up now too.
	var st *stage
	loUp := false
	if root, ok := syscall.Getenv(StageEnv); ok && role == RoleInit {
		st, _ = newStage(root, true, true)
		loUp = loopbackUp() == nil
	}
	b, err := readFD(ConfigFD)
	syscall.Close(ConfigFD)
	if err != nil {
		return wrap("read config", err)
	}
	s, err := Unmarshal(b)
	if err != nil {
		return err
	}
	switch role {
	case RoleInit:
		if err := adjustPrestarted(s); err != nil {
			return err
		}
		if s.OOMScoreAdj != 0 {
			if err := setOOMScoreAdj("self", s.OOMScoreAdj); err != nil {
				return err
			}
		}
		if err := setupRootfs(s, st, true); err != nil {
			return err
		}
		if err := unix.Sethostname([]byte(s.Hostname)); err != nil {
			return wrap("set hostname "+strconv.Quote(s.Hostname), err)
		}
		if s.Network != NetworkHost && !loUp {
			if err := loopbackUp(); err != nil {
				return err
			}
		}
	case RoleExec:
		// The parent started us in the container's other namespaces;
		// the mount namespace is joined only now, from this thread
		// alone, so this binary was loaded from the host's file system.
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			return wrap("unshare fs", err)
		}
		if err := unix.Setns(MountNSFD, unix.CLONE_NEWNS); err != nil {
			return wrap("join the container's mount namespace", err)
		}
		syscall.Close(MountNSFD)
		if err := syscall.Chdir("/"); err != nil {
			return wrap("chdir /", err)
		}
		var u unix.Utsname
		if err := unix.Uname(&u); err == nil {
			s.Hostname = unix.ByteSliceToString(u.Nodename[:])
		}
	default:
		return errors.New("unknown sandbox role " + strconv.Quote(role))
	}
	return execProgram(s)
}

func panicString(r any) string {
	switch v := r.(type) {
	case error:
		return v.Error()
	case string:
		return v
	}
	return "(non-string panic value)"
}

// program is what the container runs, found in its root: the file,
// the environment, the working directory and the user.
type program struct {
	path string
	env  []string
	cwd  string
	user execUser
}

// findProgram resolves s's user, makes the working directory and enters
// it, and looks the program up in the container's PATH.
func findProgram(s *Spec) (*program, error) {
	if len(s.Args) == 0 {
		return nil, errors.New("no program given")
	}
	u, err := resolveUser(s.User)
	if err != nil {
		return nil, err
	}
	cwd := s.Cwd
	if cwd == "" {
		cwd = "/"
	}
	if err := mkdirAll(cwd); err != nil {
		return nil, wrap("create working directory "+cwd, err)
	}
	if err := syscall.Chdir(cwd); err != nil {
		return nil, wrap("change to working directory "+cwd, err)
	}
	env := buildEnv(s.Env, s.Hostname, u.Home)
	path, err := lookPath(s.Args[0], env)
	if err != nil {
		return nil, err
	}
	return &program{path: path, env: env, cwd: cwd, user: u}, nil
}

// execProgram switches to the container's user, working directory,
// capabilities and environment, and execs the program.
func execProgram(s *Spec) error {
	p, err := findProgram(s)
	if err != nil {
		return err
	}
	if s.Tty {
		if err := setupConsole(p.user.Uid, s.Rows, s.Cols); err != nil {
			return err
		}
	}
	if err := setRlimits(0, s.Rlimits); err != nil {
		return err
	}
	if err := dropPrivileges(p.user, DefaultCaps&^s.CapDrop); err != nil {
		return err
	}
	syscall.Umask(0o022)
	if err := DefaultIgnoredSignals(); err != nil {
		return err
	}
	if err := CloseOnExecFrom3(); err != nil {
		return err
	}
	return execFailure(p.path, syscall.Exec(p.path, s.Args, p.env))
}

// execFailure is the Failure for the program's exec failing with err.
func execFailure(path string, err error) error {
	errno, _ := err.(syscall.Errno)
	if errno == syscall.ENOENT {
		return &Failure{Program: true, Errno: errno,
			Msg: "exec " + path + ": no such file or directory in the image (or its ELF interpreter is missing)"}
	}
	return &Failure{Program: true, Errno: errno, Msg: "exec " + path + ": " + err.Error()}
}

// setRlimits applies the container's ulimits to process pid, 0 for this
// one. syscall.Setrlimit, not a raw call, for this one: for RLIMIT_NOFILE
// it also stops Exec from restoring the limit Go found at start.
func setRlimits(pid int, rs []Rlimit) error {
	for _, r := range rs {
		lim := syscall.Rlimit{Cur: r.Soft, Max: r.Hard}
		var err error
		if pid == 0 {
			err = syscall.Setrlimit(r.Resource, &lim)
		} else {
			err = unix.Prlimit(pid, r.Resource, (*unix.Rlimit)(&lim), nil)
		}
		if err != nil {
			msg := "set ulimit " + r.Name
			if err == syscall.EPERM {
				var cur syscall.Rlimit
				syscall.Getrlimit(r.Resource, &cur)
				msg += ": the hard limit cannot be raised above the runtime's (" + strconv.FormatUint(cur.Max, 10) + ")"
			}
			return wrap(msg, err)
		}
	}
	return nil
}

// buildEnv adds Docker's defaults for PATH, HOSTNAME and HOME when the
// configuration does not set them.
func buildEnv(env []string, hostname, home string) []string {
	has := func(k string) bool {
		for _, e := range env {
			if strings.HasPrefix(e, k+"=") {
				return true
			}
		}
		return false
	}
	out := append([]string(nil), env...)
	if !has("PATH") {
		out = append(out, DefaultPath)
	}
	if hostname != "" && !has("HOSTNAME") {
		out = append(out, "HOSTNAME="+hostname)
	}
	if !has("HOME") {
		if home == "" {
			home = "/"
		}
		out = append(out, "HOME="+home)
	}
	return out
}

// lookPath finds prog in the container's PATH (from env, not ours).
func lookPath(prog string, env []string) (string, error) {
	if strings.Contains(prog, "/") {
		return prog, nil
	}
	path := ""
	for _, e := range env {
		if v, ok := strings.CutPrefix(e, "PATH="); ok {
			path = v
		}
	}
	for _, dir := range strings.Split(path, ":") {
		if dir == "" {
			dir = "."
		}
		p := dir + "/" + prog
		var st syscall.Stat_t
		if syscall.Stat(p, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFREG && st.Mode&0o111 != 0 {
			return p, nil
		}
	}
	return "", &Failure{Program: true, NotFound: true,
		Msg: "exec: " + strconv.Quote(prog) + ": executable file not found in $PATH (" + path + ") of the image"}
}

// adjustPrestarted fits an init started before its container was known
// (package sandbox's Prestart) to the spec: /dev/null for a stdin pipe it
// does not need, the host's network for the new namespace it was given.
// The network comes first: /sys, mounted next, shows the namespace of
// whoever mounts it.
func adjustPrestarted(s *Spec) error {
	if s.NullStdin {
		fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return wrap("open /dev/null for stdin", err)
		}
		err = unix.Dup3(fd, 0, 0)
		unix.Close(fd)
		if err != nil {
			return wrap("make /dev/null stdin", err)
		}
	}
	if s.JoinHostNet {
		if err := unix.Setns(NetNSFD, unix.CLONE_NEWNET); err != nil {
			return wrap("join the host's network namespace", err)
		}
		syscall.Close(NetNSFD)
	}
	return nil
}

// setOOMScoreAdj writes the OOM score adjustment of the init, or of
// another process (proc is "self" or a PID), which the program inherits
// (docker run --oom-score-adj). Raising it needs no privilege; lowering it
// below the value inherited needs CAP_SYS_RESOURCE.
func setOOMScoreAdj(proc string, n int) error {
	file := "/proc/" + proc + "/oom_score_adj"
	fd, err := unix.Open(file, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return wrap("--oom-score-adj: open "+file, err)
	}
	_, err = unix.Write(fd, []byte(strconv.Itoa(n)))
	unix.Close(fd)
	if err == nil {
		return nil
	}
	msg := "--oom-score-adj " + strconv.Itoa(n)
	if err == unix.EACCES || err == unix.EPERM {
		cur := "?"
		if fd, err := unix.Open(file, unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
			if b, err := readFD(fd); err == nil {
				cur = strings.TrimSpace(string(b))
			}
			unix.Close(fd)
		}
		msg += ": lowering the OOM score adjustment below the runtime's own (" + cur + ") needs CAP_SYS_RESOURCE, which the engine does not have"
	}
	return wrap(msg, err)
}

// loopbackUp brings up lo in the container's fresh network namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return wrap("loopback: socket", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return wrap("loopback: get flags", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return wrap("loopback: bring up lo", err)
	}
	return nil
}
