package nsinit

import (
	"bytes"
	"strconv"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// DefaultIgnoredSignals sets every signal this process ignores back to
// its default. An ignored signal stays ignored through fork and exec,
// and a container's program must find none ignored, as under Docker; but
// Go leaves ignored what it inherited so, from whatever started the
// engine: SIGHUP and SIGINT (a daemon under nohup), and the signals it
// never handles itself (32 and 33, which a make or a shell may ignore).
// Every signal Go does handle, exec resets.
func DefaultIgnoredSignals() error {
	ignored, err := ignoredSignals()
	if err != nil {
		return err
	}
	var act [4]uint64 // SIG_DFL, no flags, an empty mask: zero on every port
	for sig := 1; sig <= 64; sig++ {
		if ignored&(1<<(sig-1)) != 0 {
			if _, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0); e != 0 {
				return wrap("set signal "+strconv.Itoa(sig)+" to its default", e)
			}
		}
	}
	return nil
}

// ignoredSignals is the SigIgn mask of /proc/self/status (bit n-1 for
// signal n).
func ignoredSignals() (uint64, error) {
	b, err := readFile("/proc/self/status")
	if err != nil {
		return 0, wrap("read /proc/self/status", err)
	}
	const key = "\nSigIgn:\t"
	i := bytes.Index(b, []byte(key))
	if i < 0 {
		return 0, wrap("read /proc/self/status", unix.EINVAL)
	}
	hex := b[i+len(key):]
	if j := bytes.IndexByte(hex, '\n'); j >= 0 {
		hex = hex[:j]
	}
	mask, err := strconv.ParseUint(string(hex), 16, 64)
	if err != nil {
		return 0, wrap("read /proc/self/status: SigIgn", err)
	}
	return mask, nil
}
