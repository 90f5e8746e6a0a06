package main

import (
	"fmt"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// spawnP50 is the median time to run /bin/true and wait for it, of n runs:
// how fast this host creates and reaps a process right now. Every
// container start pays for several, so a busy or overcommitted host slows
// every row: the facts give it at the start and the end, to read the
// table by.
func spawnP50(n int) time.Duration {
	ds := make([]time.Duration, 0, n)
	for i := 0; i < n; i++ {
		t := time.Now()
		if err := exec.Command("/bin/true").Run(); err != nil {
			return 0
		}
		ds = append(ds, time.Since(t))
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// spawnStart is spawnP50 when the report started (after strays stopped).
var spawnStart time.Duration

func spawnFact() string {
	us := func(d time.Duration) string { return fmt.Sprintf("%d µs", d.Microseconds()) }
	return fmt.Sprintf("%s at the start, %s at the end (run and wait for /bin/true, p50 of 50: a slower host makes every start slower)", us(spawnStart), us(spawnP50(50)))
}

// pageFaultCost is the median time, of three rounds, to write the first
// byte of each 4 KiB page of 64 MiB of fresh anonymous memory: what one
// page fault costs here. A process start takes hundreds (a Go one about
// 150), so a host where they are slow (a virtual machine's shadow or
// nested paging) is slow at every row that starts one.
func pageFaultCost() time.Duration {
	const size, page = 64 << 20, 4096
	var ds []time.Duration
	for range 3 {
		b, err := unix.Mmap(-1, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
		if err != nil {
			return 0
		}
		// Small pages, as a process's stacks and heap mostly get.
		unix.Madvise(b, unix.MADV_NOHUGEPAGE)
		t := time.Now()
		for i := 0; i < size; i += page {
			b[i] = 1
		}
		ds = append(ds, time.Since(t)/(size/page))
		unix.Munmap(b)
	}
	slices.Sort(ds)
	return ds[len(ds)/2]
}

func pageFaultFact() string {
	return fmt.Sprintf("%.2f µs per first write to a fresh 4 KiB page (p50 of three rounds over 64 MiB; every process start takes hundreds)",
		float64(pageFaultCost().Nanoseconds())/1000)
}

// hypervisor names the hypervisor the kernel found at boot ("Hypervisor
// detected: KVM"), "a virtual machine" when only the CPU says there is
// one, or "none found".
func hypervisor() string {
	if out, err := exec.Command("dmesg").Output(); err == nil {
		if m := hypervisorLine.FindSubmatch(out); m != nil {
			return string(m[1])
		}
	}
	if slices.Contains(strings.Fields(procField("/proc/cpuinfo", "flags")), "hypervisor") {
		return "a virtual machine"
	}
	return "none found"
}

var hypervisorLine = regexp.MustCompile(`Hypervisor detected: (\S+)`)
