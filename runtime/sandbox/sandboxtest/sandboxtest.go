// Package sandboxtest builds what tests and benchmarks of containers
// need: a busybox image from the host's busybox-static, and a program that
// reports the moment it started.
package sandboxtest

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Busybox is where Debian's busybox-static installs it.
const Busybox = "/bin/busybox"

// BuildBusybox writes a minimal image into root: busybox with its applet
// symlinks (busybox --install -s style), /etc/motd ("from the image"), and
// users root, app (1000:1000, also in staff 50 and audio 63, home
// /home/app) and nobody in /etc/passwd and /etc/group.
func BuildBusybox(root string) error {
	for _, d := range []string{"bin", "etc", "tmp", "proc", "sys", "dev", "root", "home/app"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			return err
		}
	}
	os.Chmod(filepath.Join(root, "tmp"), 0o1777)
	bb, err := os.ReadFile(Busybox)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(root, "bin/busybox"), bb, 0o755); err != nil {
		return err
	}
	out, err := exec.Command(Busybox, "--list").Output()
	if err != nil {
		return err
	}
	for _, name := range strings.Fields(string(out)) {
		if name != "busybox" {
			if err := os.Symlink("busybox", filepath.Join(root, "bin", name)); err != nil {
				return err
			}
		}
	}
	files := map[string]string{
		"etc/passwd": "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
		"etc/group":  "root:x:0:\nstaff:x:50:app\napp:x:1000:\naudio:x:63:app,root\nnogroup:x:65534:\n",
		"etc/motd":   "from the image\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(content), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// ClockProgram is a tiny static x86_64 ELF (amd64 hosts only) whose first instructions read
// CLOCK_MONOTONIC and write the raw timespec to stdout, then exit 0: the
// moment the container's program starts, with nothing (no libc, no
// runtime) in between.
func ClockProgram() []byte {
	code := []byte{
		0x48, 0x83, 0xEC, 0x10, // sub rsp, 16
		0xB8, 0xE4, 0x00, 0x00, 0x00, // mov eax, 228 (clock_gettime)
		0xBF, 0x01, 0x00, 0x00, 0x00, // mov edi, 1 (CLOCK_MONOTONIC)
		0x48, 0x89, 0xE6, // mov rsi, rsp
		0x0F, 0x05, // syscall
		0xB8, 0x01, 0x00, 0x00, 0x00, // mov eax, 1 (write)
		0xBF, 0x01, 0x00, 0x00, 0x00, // mov edi, 1 (stdout)
		0x48, 0x89, 0xE6, // mov rsi, rsp
		0xBA, 0x10, 0x00, 0x00, 0x00, // mov edx, 16
		0x0F, 0x05, // syscall
		0xB8, 0x3C, 0x00, 0x00, 0x00, // mov eax, 60 (exit)
		0x31, 0xFF, // xor edi, edi
		0x0F, 0x05, // syscall
	}
	const base, hdrs = 0x400000, 64 + 56
	size := uint64(hdrs + len(code))
	var b bytes.Buffer
	w := func(v any) { binary.Write(&b, binary.LittleEndian, v) }
	b.Write([]byte{0x7f, 'E', 'L', 'F', byte(elf.ELFCLASS64), byte(elf.ELFDATA2LSB), byte(elf.EV_CURRENT), 0, 0, 0, 0, 0, 0, 0, 0, 0})
	w(uint16(elf.ET_EXEC))
	w(uint16(elf.EM_X86_64))
	w(uint32(elf.EV_CURRENT))
	w(uint64(base + hdrs)) // entry
	w(uint64(64))          // program headers offset
	w(uint64(0))           // section headers offset
	w(uint32(0))           // flags
	w(uint16(64))          // ELF header size
	w(uint16(56))          // program header size
	w(uint16(1))           // program headers
	w(uint16(64))          // section header size
	w(uint16(0))           // section headers
	w(uint16(0))           // section name table index
	w(uint32(elf.PT_LOAD))
	w(uint32(elf.PF_R | elf.PF_X))
	w(uint64(0))    // offset
	w(uint64(base)) // vaddr
	w(uint64(base)) // paddr
	w(size)         // file size
	w(size)         // memory size
	w(uint64(0x1000))
	b.Write(code)
	return b.Bytes()
}

// Monotonic is CLOCK_MONOTONIC now, comparable with what ClockProgram
// prints.
func Monotonic() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return time.Duration(ts.Nano())
}

// ParseClock decodes ClockProgram's output.
func ParseClock(out []byte) (time.Duration, bool) {
	if len(out) != 16 {
		return 0, false
	}
	return time.Duration(binary.LittleEndian.Uint64(out[:8]))*time.Second + time.Duration(binary.LittleEndian.Uint64(out[8:])), true
}
