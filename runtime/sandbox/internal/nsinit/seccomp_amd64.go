package nsinit

import "golang.org/x/sys/unix"

// arches on x86_64: native (and x32) calls, and i386 calls through int
// 0x80, whose numbers differ (from asm/unistd_32.h).
var arches = []arch{
	{audit: unix.AUDIT_ARCH_X86_64, denied: commonDenied, clone: unix.SYS_CLONE, clone3: unix.SYS_CLONE3, clearX32BitNrs: true},
	{audit: unix.AUDIT_ARCH_I386, clone: 120, clone3: 435, denied: []uint32{
		310, 346, 21, 22, 52, 217, // unshare setns mount umount umount2 pivot_root
		428, 429, 430, 431, 432, 433, 442, // new mount API
		288, 286, 287, // keyctl add_key request_key
		357, 336, 374, 253, // bpf perf_event_open userfaultfd lookup_dcookie
		283, 128, 350, 129, // kexec_load init_module finit_module delete_module
		51, 88, 87, 115, 131, // acct reboot swapon swapoff quotactl
		79, 264, 343, 25, // settimeofday clock_settime clock_adjtime stime
		342, 341, // open_by_handle_at name_to_handle_at
	}},
}
