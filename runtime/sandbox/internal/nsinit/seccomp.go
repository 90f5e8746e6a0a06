package nsinit

import (
	"runtime"
	"slices"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// A seccomp filter in the spirit of Docker's default profile, as a deny
// list: the system calls that profile refuses to a container with the
// default capabilities. Most of them already fail for lack of a
// capability; the filter matters for those that do not, above all the
// creation of user namespaces (unshare, clone, setns), through which an
// unprivileged process regains capabilities over new namespaces, and for
// kernel interfaces that are not namespaced (keyrings, bpf, perf events,
// userfaultfd). clone3 answers ENOSYS, as in Docker, so C libraries fall
// back to clone, whose flags the filter can inspect.

// arch is one system call table: its audit architecture, its denied
// numbers, and its clone and clone3 numbers.
type arch struct {
	audit          uint32
	denied         []uint32
	clone, clone3  uint32
	clearX32BitNrs bool // x86_64: x32 calls are the native numbers | 0x40000000
}

// nsFlags are the clone flags that create namespaces.
const nsFlags = unix.CLONE_NEWNS | unix.CLONE_NEWUTS | unix.CLONE_NEWIPC | unix.CLONE_NEWUSER |
	unix.CLONE_NEWPID | unix.CLONE_NEWNET | unix.CLONE_NEWCGROUP | unix.CLONE_NEWTIME

// commonDenied exist under these names on every 64-bit Linux port.
var commonDenied = []uint32{
	unix.SYS_UNSHARE, unix.SYS_SETNS, unix.SYS_MOUNT, unix.SYS_UMOUNT2, unix.SYS_PIVOT_ROOT,
	unix.SYS_OPEN_TREE, unix.SYS_MOVE_MOUNT, unix.SYS_FSOPEN, unix.SYS_FSCONFIG, unix.SYS_FSMOUNT,
	unix.SYS_FSPICK, unix.SYS_MOUNT_SETATTR,
	unix.SYS_KEYCTL, unix.SYS_ADD_KEY, unix.SYS_REQUEST_KEY,
	unix.SYS_BPF, unix.SYS_PERF_EVENT_OPEN, unix.SYS_USERFAULTFD, unix.SYS_LOOKUP_DCOOKIE,
	unix.SYS_KEXEC_LOAD, unix.SYS_KEXEC_FILE_LOAD, unix.SYS_INIT_MODULE, unix.SYS_FINIT_MODULE,
	unix.SYS_DELETE_MODULE, unix.SYS_ACCT, unix.SYS_REBOOT, unix.SYS_SWAPON, unix.SYS_SWAPOFF,
	unix.SYS_QUOTACTL, unix.SYS_SETTIMEOFDAY, unix.SYS_CLOCK_SETTIME, unix.SYS_CLOCK_ADJTIME,
	unix.SYS_OPEN_BY_HANDLE_AT, unix.SYS_NAME_TO_HANDLE_AT,
}

const (
	retAllow  = unix.SECCOMP_RET_ALLOW
	retEPERM  = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	retENOSYS = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
	// Offsets in struct seccomp_data.
	offNr   = 0
	offArch = 4
	offArg0 = 16 // low half of args[0] (little endian)
)

func stmt(code uint16, k uint32) unix.SockFilter { return unix.SockFilter{Code: code, K: k} }

func jump(code uint16, k uint32, jt, jf uint8) unix.SockFilter {
	return unix.SockFilter{Code: code, Jt: jt, Jf: jf, K: k}
}

// section checks one architecture's call number (already known to be
// that architecture) and ends in a verdict. The numbers are searched as a
// binary tree: the kernel runs the filter on every system call and, when
// it is loaded, once per call number to precompute its cache, so short
// paths keep both cheap.
func section(a arch) []unix.SockFilter {
	p := []unix.SockFilter{stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offNr)}
	if a.clearX32BitNrs {
		p = append(p, stmt(unix.BPF_ALU|unix.BPF_AND|unix.BPF_K, ^uint32(0x40000000)))
	}
	nums := append([]uint32{a.clone, a.clone3}, a.denied...)
	slices.Sort(nums)
	nums = slices.Compact(nums)
	verdict := func(nr uint32) []unix.SockFilter {
		switch nr {
		case a.clone: // refused only when it would create namespaces
			return []unix.SockFilter{
				stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offArg0),
				jump(unix.BPF_JMP|unix.BPF_JSET|unix.BPF_K, nsFlags, 0, 1),
				stmt(unix.BPF_RET|unix.BPF_K, retEPERM),
				stmt(unix.BPF_RET|unix.BPF_K, retAllow),
			}
		case a.clone3:
			return []unix.SockFilter{stmt(unix.BPF_RET|unix.BPF_K, retENOSYS)}
		}
		return []unix.SockFilter{stmt(unix.BPF_RET|unix.BPF_K, retEPERM)}
	}
	return append(p, search(nums, verdict)...)
}

// search emits a binary search of the accumulator over sorted nums,
// ending in verdict(n) for a match and in allow otherwise.
func search(nums []uint32, verdict func(uint32) []unix.SockFilter) []unix.SockFilter {
	if len(nums) <= 3 {
		var p []unix.SockFilter
		for _, n := range nums {
			v := verdict(n)
			p = append(p, jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, n, 0, uint8(len(v))))
			p = append(p, v...)
		}
		return append(p, stmt(unix.BPF_RET|unix.BPF_K, retAllow))
	}
	mid := len(nums) / 2
	left, right := search(nums[:mid], verdict), search(nums[mid:], verdict)
	p := []unix.SockFilter{jump(unix.BPF_JMP|unix.BPF_JGE|unix.BPF_K, nums[mid], uint8(len(left)), 0)}
	p = append(p, left...)
	return append(p, right...)
}

// filter builds the program: one section per architecture this kernel
// may run the container's code as; calls from any other are refused.
func filter() []unix.SockFilter {
	p := []unix.SockFilter{stmt(unix.BPF_LD|unix.BPF_W|unix.BPF_ABS, offArch)}
	for _, a := range arches {
		s := section(a)
		p = append(p, jump(unix.BPF_JMP|unix.BPF_JEQ|unix.BPF_K, a.audit, 0, uint8(len(s))))
		p = append(p, s...)
	}
	return append(p, stmt(unix.BPF_RET|unix.BPF_K, retEPERM))
}

// installSeccomp loads the filter on this thread, which execve then hands
// to the program. no_new_privs must already be set.
func installSeccomp() error {
	if len(arches) == 0 {
		return nil // no table for this port: capabilities alone apply
	}
	f := filter()
	prog := unix.SockFprog{Len: uint16(len(f)), Filter: &f[0]}
	// The pointer goes to the kernel through syscall.Syscall itself: only
	// there does the compiler keep &prog where it was (unix.Prctl takes a
	// plain uintptr, and a stack that grows on the way moves prog, which
	// failed one launch in a few hundred with EINVAL).
	_, _, errno := syscall.Syscall(syscall.SYS_PRCTL, unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&prog)))
	runtime.KeepAlive(f)
	if errno != 0 {
		return wrap("install seccomp filter", errno)
	}
	return nil
}
