package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/reconciler/reconciler/runtime/sandbox"
)

// render makes the Markdown table, its columns padded so that it reads
// as well in a terminal.
func render(r results, quick bool) string {
	head := []string{"issue", "what", "ours", "peer", "peer's time", "ratio (peer ÷ ours)", "target"}
	cells := [][]string{head}
	for _, row := range rows {
		ours, peer, ratio := "skipped or failed: see log", "", "—"
		o, haveOurs := r.ms(row.ours)
		notRun := !r.ran(row.ours.pkg) || quick && row.full
		switch {
		case haveOurs:
			ours = fmtMS(o)
		case notRun:
			ours = "not run"
		}
		switch {
		case row.peer == nil:
			peer = "—"
		case notRun:
			peer = "not run"
		case missing(row.needs) != "":
			peer = "peer not installed (" + missing(row.needs) + ")"
		default:
			if v, ok := r.ms(*row.peer); ok {
				peer = fmtMS(v)
				if haveOurs && o > 0 {
					ratio = fmtRatio(v / o)
				}
			} else if row.absent != "" {
				peer = row.absent
			} else {
				peer = "not measured: see log"
			}
		}
		cells = append(cells, []string{fmt.Sprint(row.issue), row.what, ours, row.peerIs, peer, ratio, row.target})
	}
	width := make([]int, len(head))
	for _, c := range cells {
		for i, s := range c {
			width[i] = max(width[i], len([]rune(s)))
		}
	}
	var sb strings.Builder
	line := func(c []string) {
		for i, s := range c {
			sb.WriteString("| " + s + strings.Repeat(" ", width[i]-len([]rune(s))) + " ")
		}
		sb.WriteString("|\n")
	}
	line(cells[0])
	sep := make([]string, len(head))
	for i := range sep {
		sep[i] = strings.Repeat("-", width[i])
	}
	line(sep)
	for _, c := range cells[1:] {
		line(c)
	}
	return sb.String()
}

func fmtMS(v float64) string {
	switch {
	case v >= 10000:
		return fmt.Sprintf("%.1f s", v/1000)
	case v >= 100:
		return fmt.Sprintf("%.0f ms", v)
	case v >= 10:
		return fmt.Sprintf("%.1f ms", v)
	default:
		return fmt.Sprintf("%.2f ms", v)
	}
}

func fmtRatio(x float64) string {
	if x >= 1 {
		return fmt.Sprintf("%.1f× faster", x)
	}
	return fmt.Sprintf("%.1f× slower", 1/x)
}

// missing names the first binary of needs not on PATH.
func missing(needs []string) string {
	for _, b := range needs {
		if _, err := exec.LookPath(b); err != nil {
			return b
		}
	}
	return ""
}

// containerStartFact says whether containers start with an init process
// on this host (see package runtime/sandbox).
func containerStartFact() string {
	if sandbox.StartsWithoutInit() {
		return "no init process: the shim forks the program (the kernel mounts /proc for another PID namespace)"
	}
	return "an init process per container (this kernel cannot mount /proc for another PID namespace, or RECONCILER_INIT_PROCESS=1)"
}

// machineFacts describes where the numbers come from.
func machineFacts(quick bool, took time.Duration) string {
	mode := "full"
	if quick {
		mode = "quick (bench-quick: fewer iterations, converge 10 only)"
	}
	facts := [][2]string{
		{"date", time.Now().UTC().Format("2006-01-02 15:04 MST")},
		{"run", fmt.Sprintf("%s, %s", mode, took.Round(time.Second))},
		{"load average", fmt.Sprintf("%s at the start, %s at the end (other work on the machine makes every number noisier)", loadStart, loadavg())},
		{"other containers", fmt.Sprintf("%d of ours running at the start (each start walks their shims' threads)", containersRunning)},
		{"process spawn", spawnFact()},
		{"page fault", pageFaultFact()},
		{"hypervisor", hypervisor()},
		{"container start", containerStartFact()},
		{"cpu", fmt.Sprintf("%d × %s", runtime.NumCPU(), cpuModel())},
		{"memory", memTotal()},
		{"kernel", firstLine("uname", "-sr")},
		{"go", firstLine("go", "version")},
		{"reconciler", firstLine("git", "describe", "--always", "--dirty")},
		{"dockerd", firstLine("dockerd", "--version")},
		{"docker CLI", firstLine("docker", "--version")},
		{"runc", firstLine("runc", "--version")},
		{"busybox", firstLine("/bin/busybox")},
	}
	var sb strings.Builder
	for _, f := range facts {
		fmt.Fprintf(&sb, "- %s: %s\n", f[0], f[1])
	}
	return sb.String()
}

// firstLine runs a command and returns the first line of its output, or
// "not installed".
func firstLine(name string, args ...string) string {
	if _, err := exec.LookPath(name); err != nil {
		return "not installed"
	}
	out, _ := exec.Command(name, args...).CombinedOutput()
	l, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(l)
}

func cpuModel() string { return procField("/proc/cpuinfo", "model name") }
func memTotal() string { return procField("/proc/meminfo", "MemTotal") }

// procField returns the value of the first "key: value" line of a /proc file.
func procField(path, key string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

// containersRunning counts the containers of ours running on the host
// when the report started, strays of interrupted runs stopped (strays.go).
var containersRunning int

// loadStart is the load average when the report started.
var loadStart = loadavg()

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}
