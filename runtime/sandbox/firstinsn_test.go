package sandbox

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// clockProgram is a tiny static x86_64 ELF whose first instructions read
// CLOCK_MONOTONIC and write the raw timespec to stdout, then exit 0: the
// moment the container's program starts, with nothing (no libc, no
// runtime) in between.
func clockProgram() []byte {
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

func monotonic() time.Duration {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts)
	return time.Duration(ts.Nano())
}

// BenchmarkFirstInstruction measures create to the first instruction of
// the container's program: from before Start (fresh container-layer
// directories included) to the clock the program reads first thing.
func BenchmarkFirstInstruction(b *testing.B) {
	needRoot(b)
	if runtime.GOARCH != "amd64" {
		b.Skip("the clock program is x86_64 machine code")
	}
	if err := Prepare(); err != nil {
		b.Fatal(err)
	}
	layer := b.TempDir()
	if err := os.WriteFile(filepath.Join(layer, "clock"), clockProgram(), 0o755); err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var out bytes.Buffer
		t0 := monotonic()
		c := filepath.Join(dir, strconv.Itoa(i))
		for _, d := range []string{"upper", "work", "rootfs"} {
			if err := os.MkdirAll(filepath.Join(c, d), 0o755); err != nil {
				b.Fatal(err)
			}
		}
		cfg := Config{
			ID: "first-" + strconv.Itoa(i), LowerDirs: []string{busyboxLower, layer},
			UpperDir: filepath.Join(c, "upper"), WorkDir: filepath.Join(c, "work"), RootfsDir: filepath.Join(c, "rootfs"),
			Args: []string{"/clock"}, Stdout: &out,
		}
		p, err := Start(cfg)
		if err != nil {
			b.Fatal(err)
		}
		if st, err := p.Wait(); err != nil || st.Code != 0 || out.Len() != 16 {
			b.Fatalf("%+v %v %d bytes", st, err, out.Len())
		}
		Cleanup(cfg)
		sec := binary.LittleEndian.Uint64(out.Bytes()[:8])
		nsec := binary.LittleEndian.Uint64(out.Bytes()[8:])
		lat = append(lat, time.Duration(sec)*time.Second+time.Duration(nsec)-t0)
	}
	b.StopTimer()
	slices.Sort(lat)
	var sum time.Duration
	for _, l := range lat {
		sum += l
	}
	b.ReportMetric(float64(sum.Microseconds())/1000/float64(len(lat)), "first-insn-ms/op")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "first-insn-p50-ms")
}

// TestClockProgram checks the hand-made ELF the benchmark relies on.
func TestClockProgram(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("x86_64 machine code")
	}
	cfg, out := testConfig(t, "/clock")
	layer := t.TempDir()
	os.WriteFile(filepath.Join(layer, "clock"), clockProgram(), 0o755)
	cfg.LowerDirs = append(cfg.LowerDirs, layer)
	cfg.Stderr = nil
	t0 := monotonic()
	if st := runContainer(t, cfg); st.Code != 0 || out.Len() != 16 {
		t.Fatalf("exit %+v, %d bytes", st, out.Len())
	}
	at := time.Duration(binary.LittleEndian.Uint64(out.Bytes()[:8]))*time.Second + time.Duration(binary.LittleEndian.Uint64(out.Bytes()[8:]))
	if d := at - t0; d <= 0 || d > time.Minute {
		t.Fatalf("program read the clock %v after the start", d)
	}
}
