package nsinit

import (
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DefaultCaps is Docker's default capability set.
var DefaultCaps = capMask(unix.CAP_CHOWN, unix.CAP_DAC_OVERRIDE, unix.CAP_FSETID,
	unix.CAP_FOWNER, unix.CAP_MKNOD, unix.CAP_NET_RAW, unix.CAP_SETGID,
	unix.CAP_SETUID, unix.CAP_SETFCAP, unix.CAP_SETPCAP, unix.CAP_NET_BIND_SERVICE,
	unix.CAP_SYS_CHROOT, unix.CAP_KILL, unix.CAP_AUDIT_WRITE)

// allCaps stands for a bounding set not limited yet.
const allCaps = ^uint64(0)

func capMask(caps ...int) uint64 {
	var m uint64
	for _, c := range caps {
		m |= 1 << c
	}
	return m
}

// dropPrivileges applies the capability set caps (Docker's default set
// less --cap-drop), no_new_privs, the user's IDs and the seccomp filter.
// The raw calls are per thread, on purpose: syscall.Setuid and friends
// would signal every thread of this runtime to change them all, but only
// this thread survives the execve.
func dropPrivileges(u execUser, caps uint64) error {
	if err := limitBoundingSet(caps, allCaps); err != nil {
		return err
	}
	groups := make([]uint32, len(u.Groups))
	for i, g := range u.Groups {
		groups[i] = uint32(g)
	}
	var gp unsafe.Pointer
	if len(groups) > 0 {
		gp = unsafe.Pointer(&groups[0])
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_SETGROUPS, uintptr(len(groups)), uintptr(gp), 0); e != 0 {
		return wrap("set supplementary groups", e)
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_SETRESGID, uintptr(u.Gid), uintptr(u.Gid), uintptr(u.Gid)); e != 0 {
		return wrap("set gid "+strconv.Itoa(u.Gid), e)
	}
	if _, _, e := syscall.RawSyscall(syscall.SYS_SETRESUID, uintptr(u.Uid), uintptr(u.Uid), uintptr(u.Uid)); e != 0 {
		return wrap("set uid "+strconv.Itoa(u.Uid), e)
	}
	// Root keeps the default set as effective and permitted; any other
	// user lost them all in setuid. Inheritable stays empty (CVE-2022-24769).
	var keep uint64
	if u.Uid == 0 {
		keep = caps
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	data := [2]unix.CapUserData{
		{Effective: uint32(keep), Permitted: uint32(keep)},
		{Effective: uint32(keep >> 32), Permitted: uint32(keep >> 32)},
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return wrap("set capabilities", err)
	}
	return lockDown()
}

// limitBoundingSet drops every capability not in caps from this thread's
// bounding set, and clears its ambient set: at exec, a root program's
// capabilities become its bounding set (and any other user's, none).
// bounding is what the set may still hold (allCaps when unknown): those
// already dropped are not dropped again, a system call each.
func limitBoundingSet(caps, bounding uint64) error {
	for c := 0; c <= 63; c++ {
		if caps&(1<<c) != 0 || bounding&(1<<c) == 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(c), 0, 0, 0); err != nil {
			if err == unix.EINVAL { // past the kernel's last capability
				break
			}
			return wrap("drop capability "+strconv.Itoa(c)+" from the bounding set", err)
		}
	}
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil {
		return wrap("clear ambient capabilities", err)
	}
	return nil
}

// lockDown sets no_new_privs and loads the seccomp filter, both of which
// this thread then keeps and hands down, through fork and exec.
func lockDown() error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return wrap("set no_new_privs", err)
	}
	return installSeccomp()
}
