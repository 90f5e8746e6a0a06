package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Descriptors the parent hands to the init and exec helpers.
const (
	configFD = 3
	statusFD = 4
)

// initMain is the container's init: it runs in the new namespaces, builds
// the root file system and execs the user's program. It only returns
// control (by exiting) on failure, after reporting why on the status pipe.
func initMain() {
	helperMain(func(s *wireSpec) error {
		if err := setupRootfs(s); err != nil {
			return err
		}
		if err := unix.Sethostname([]byte(s.Hostname)); err != nil {
			return fmt.Errorf("set hostname %q: %w", s.Hostname, err)
		}
		if s.Network != NetworkHost {
			if err := loopbackUp(); err != nil {
				return err
			}
		}
		return nil
	})
}

// execMain runs a process in a running container: the parent has already
// joined the container's namespaces (see Exec), so only the process
// attributes remain.
func execMain() {
	helperMain(func(s *wireSpec) error {
		var u unix.Utsname
		if err := unix.Uname(&u); err == nil {
			s.Hostname = unix.ByteSliceToString(u.Nodename[:])
		}
		return nil
	})
}

// helperMain reads the spec, runs setup and then becomes the user's
// program. Capabilities, no_new_privs and the bounding set are per thread,
// so everything runs locked to the thread that finally calls execve.
func helperMain(setup func(*wireSpec) error) {
	runtime.LockOSThread()
	status := os.NewFile(statusFD, "status")
	err := func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		unix.CloseOnExec(statusFD)
		var s wireSpec
		cfg := os.NewFile(configFD, "config")
		if err := json.NewDecoder(cfg).Decode(&s); err != nil {
			return fmt.Errorf("read config: %w", err)
		}
		cfg.Close()
		unix.Umask(0)
		if err := setup(&s); err != nil {
			return err
		}
		return execProgram(&s)
	}()
	json.NewEncoder(status).Encode(toStartError(err))
	os.Exit(1)
}

// execProgram switches to the container's user, working directory,
// capabilities and environment, and execs the program. It returns only on
// failure.
func execProgram(s *wireSpec) error {
	u, err := resolveUser(s.User)
	if err != nil {
		return err
	}
	cwd := s.Cwd
	if cwd == "" {
		cwd = "/"
	}
	if err := os.MkdirAll(cwd, 0o755); err != nil {
		return fmt.Errorf("create working directory %s: %w", cwd, err)
	}
	if err := unix.Chdir(cwd); err != nil {
		return fmt.Errorf("change to working directory %s: %w", cwd, err)
	}
	env := buildEnv(s.Env, s.Hostname, u.Home)
	path, err := lookPath(s.Args[0], env)
	if err != nil {
		return err
	}
	if err := dropPrivileges(u); err != nil {
		return err
	}
	unix.Umask(0o022)
	err = unix.Exec(path, s.Args, env)
	if errors.Is(err, unix.ENOENT) {
		return &StartError{Program: true, Errno: unix.ENOENT,
			Msg: fmt.Sprintf("exec %s: no such file or directory in the image (or its ELF interpreter is missing)", path)}
	}
	errno, _ := err.(syscall.Errno)
	return &StartError{Program: true, Errno: errno, Msg: fmt.Sprintf("exec %s: %v", path, err)}
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
		out = append(out, defaultPath)
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
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, prog)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	return "", &StartError{Program: true, NotFound: true,
		Msg: fmt.Sprintf("exec: %q: executable file not found in $PATH (%s) of the image", prog, path)}
}

// dropPrivileges applies Docker's default capability set, no_new_privs and
// the user's IDs. It must run on the thread that execs.
func dropPrivileges(u execUser) error {
	for c := 0; c <= 63; c++ {
		if defaultCaps&(1<<c) != 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
			if err == unix.EINVAL { // past the kernel's last capability
				break
			}
			return fmt.Errorf("drop capability %d from the bounding set: %w", c, err)
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return fmt.Errorf("clear ambient capabilities: %w", err)
	}
	// Per-thread raw calls: syscall.Setuid and friends would signal every
	// thread of this runtime to change them all, but only this thread
	// survives the execve.
	groups := make([]uint32, len(u.Groups))
	for i, g := range u.Groups {
		groups[i] = uint32(g)
	}
	var gp unsafe.Pointer
	if len(groups) > 0 {
		gp = unsafe.Pointer(&groups[0])
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETGROUPS, uintptr(len(groups)), uintptr(gp), 0); e != 0 {
		return fmt.Errorf("set supplementary groups %v: %w", u.Groups, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESGID, uintptr(u.Gid), uintptr(u.Gid), uintptr(u.Gid)); e != 0 {
		return fmt.Errorf("set gid %d: %w", u.Gid, e)
	}
	if _, _, e := unix.RawSyscall(unix.SYS_SETRESUID, uintptr(u.Uid), uintptr(u.Uid), uintptr(u.Uid)); e != 0 {
		return fmt.Errorf("set uid %d: %w", u.Uid, e)
	}
	// Root keeps the default set as effective and permitted; any other
	// user lost them all in setuid. Inheritable stays empty (CVE-2022-24769).
	var keep uint64
	if u.Uid == 0 {
		keep = defaultCaps
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := [2]unix.CapUserData{
		{Effective: uint32(keep), Permitted: uint32(keep)},
		{Effective: uint32(keep >> 32), Permitted: uint32(keep >> 32)},
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("set capabilities: %w", err)
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set no_new_privs: %w", err)
	}
	return nil
}

// defaultCaps is Docker's default capability set.
var defaultCaps = capMask(unix.CAP_CHOWN, unix.CAP_DAC_OVERRIDE, unix.CAP_FSETID,
	unix.CAP_FOWNER, unix.CAP_MKNOD, unix.CAP_NET_RAW, unix.CAP_SETGID,
	unix.CAP_SETUID, unix.CAP_SETFCAP, unix.CAP_SETPCAP, unix.CAP_NET_BIND_SERVICE,
	unix.CAP_SYS_CHROOT, unix.CAP_KILL, unix.CAP_AUDIT_WRITE)

func capMask(caps ...int) uint64 {
	var m uint64
	for _, c := range caps {
		m |= 1 << c
	}
	return m
}

// loopbackUp brings up lo in the container's fresh network namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("loopback: socket: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback: get flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback: bring up lo: %w", err)
	}
	return nil
}
