// Package limitnames holds Docker's names for Linux capabilities and
// resource limits, shared by the runtime (which maps them onto the
// kernel's numbers) and the manifest language (which validates them
// without touching a host).
package limitnames

import "strings"

// Capabilities are Linux's capability names without CAP_, by number.
var Capabilities = []string{"CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL",
	"SETGID", "SETUID", "SETPCAP", "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST",
	"NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER", "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT",
	"SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE", "SYS_RESOURCE", "SYS_TIME",
	"SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP", "MAC_OVERRIDE",
	"MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
	"CHECKPOINT_RESTORE"}

// All stands for every capability.
const All = "ALL"

// Capability reads a capability name in any case, with or without CAP_,
// and returns it upper case without CAP_ ("net_raw", "CAP_NET_RAW" ->
// "NET_RAW"; "all" -> "ALL") and its number (-1 for ALL); ok is false
// for a name Linux does not have.
func Capability(name string) (canonical string, number int, ok bool) {
	n := strings.ToUpper(name)
	if n == All {
		return All, -1, true
	}
	n = strings.TrimPrefix(n, "CAP_")
	for i, c := range Capabilities {
		if c == n {
			return c, i, true
		}
	}
	return "", 0, false
}

// Ulimits are the resource names docker run --ulimit accepts, sorted.
var Ulimits = []string{"core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice",
	"nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack"}

// IsUlimit says whether name is one of Ulimits.
func IsUlimit(name string) bool {
	for _, u := range Ulimits {
		if u == name {
			return true
		}
	}
	return false
}
