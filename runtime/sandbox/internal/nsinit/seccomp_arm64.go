package nsinit

import "golang.org/x/sys/unix"

// arches on arm64: native calls only (no 32-bit compat table here, so
// compat calls are refused).
var arches = []arch{
	{audit: unix.AUDIT_ARCH_AARCH64, denied: commonDenied, clone: unix.SYS_CLONE, clone3: unix.SYS_CLONE3},
}
