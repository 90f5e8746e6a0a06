// Command report runs the benchmarks that compare the reconciler with its
// peers on this machine (docker build, runc run, docker run, dockerd),
// and prints one table: what, ours, the peer's time, the ratio and the
// issue's target. With -out it also writes the table, the machine's facts
// and the raw benchmark lines to a Markdown file (bench/RESULTS.md).
//
// Run it from the module root, as root (containers need it):
//
//	go run ./bench/report -out bench/RESULTS.md     # make bench, ~5 min on 2 cores
//	go run ./bench/report -quick                    # make bench-quick, ~2 min
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

func main() {
	quick := flag.Bool("quick", false, "fewer iterations, converge 10 only")
	out := flag.String("out", "", "also write the report to this Markdown file")
	bin := flag.String("bin", "bin/reconciler", "reconciler binary the ./bench benchmarks run (built from the tree when missing)")
	only := flag.String("pkg", "", "run only the groups of this package (like ./bench)")
	flag.Parse()

	env := os.Environ()
	if abs, err := filepath.Abs(*bin); err == nil {
		if _, err := os.Stat(abs); err == nil {
			env = append(env, "RECONCILER_BIN="+abs)
		} else {
			fmt.Fprintf(os.Stderr, "report: %s not found: the ./bench benchmarks build the reconciler themselves\n", *bin)
		}
	}
	stopped, others := stopStrays()
	if stopped > 0 {
		fmt.Fprintf(os.Stderr, "report: stopped %d containers left running by an interrupted test or benchmark run\n", stopped)
	}
	containersRunning = others
	spawnStart = spawnP50(50)
	start := time.Now()
	results := results{}
	var raw []string
	var failed []string
	for _, g := range groups {
		if *only != "" && g.pkg != *only {
			continue
		}
		lines, err := g.run(env, *quick)
		raw = append(raw, lines...)
		results.parse(g.pkg, lines)
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s %s: %v", g.pkg, g.pattern, err))
		}
	}
	table := render(results, *quick)
	scale := scaleSection(results)
	facts := machineFacts(*quick, time.Since(start))
	fmt.Println()
	fmt.Println(facts)
	fmt.Println(table)
	fmt.Println(scale)
	for _, f := range failed {
		fmt.Fprintln(os.Stderr, "report: benchmarks failed:", f)
	}
	if *out != "" {
		if err := writeMarkdown(*out, facts, table, scale, raw, failed); err != nil {
			fmt.Fprintln(os.Stderr, "report:", err)
			os.Exit(1)
		}
		fmt.Fprintln(os.Stderr, "report: written to", *out)
	}
	if len(failed) > 0 {
		os.Exit(1)
	}
}

// run runs the group's benchmarks, echoing their output to stderr as it
// comes (progress for the maintainer), and returns the output's lines.
func (g group) run(env []string, quick bool) ([]string, error) {
	bt, extra := g.benchtime, g.env
	if quick {
		bt, extra = g.quick, g.quickEnv
	}
	// Built first, so that neither the build nor its writeback runs
	// into the first benchmark; run in the package's folder, as go test
	// does.
	var buf lineBuffer
	bin := filepath.Join(os.TempDir(), "reconciler-bench-"+strings.NewReplacer("/", "_", ".", "_").Replace(g.pkg)+".test")
	build := exec.Command("go", "test", "-c", "-o", bin, g.pkg)
	build.Stdout, build.Stderr = &buf, &buf
	if err := build.Run(); err != nil {
		return buf.lines(), fmt.Errorf("build: %w", err)
	}
	defer os.Remove(bin)
	settle()
	args := []string{"-test.run", "^$", "-test.bench", g.pattern, "-test.benchtime", bt, "-test.timeout", "30m"}
	if g.count > 1 && !quick {
		args = append(args, "-test.count", strconv.Itoa(g.count))
	}
	fmt.Fprintf(os.Stderr, "== %s %s %s\n", strings.Join(extra, " "), g.pkg, strings.Join(args, " "))
	cmd := exec.Command(bin, args...)
	cmd.Dir = g.pkg
	cmd.Env = append(env, extra...)
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	return buf.lines(), err
}

// lineBuffer keeps what it is given and echoes it to stderr.
type lineBuffer struct{ b strings.Builder }

func (l *lineBuffer) Write(p []byte) (int, error) {
	os.Stderr.Write(p)
	return l.b.Write(p)
}

func (l *lineBuffer) lines() []string {
	return strings.Split(strings.TrimRight(l.b.String(), "\n"), "\n")
}

func writeMarkdown(path, facts, table, scale string, raw, failed []string) error {
	var sb strings.Builder
	sb.WriteString("# Benchmarks beside the peers on this machine\n\n")
	sb.WriteString("Written by `make bench` (`go run ./bench/report`). Ratio is the peer's time divided by ours:\n")
	sb.WriteString("above 1, we are that many times faster. Times are the mean of ns/op, or the median\n")
	sb.WriteString("where the line says p50 (and for every ./bench comparison, measured in the same run).\n")
	sb.WriteString("The runtime benchmarks run three times each; the table has the median of the three.\n")
	sb.WriteString("Each group of benchmarks is built first and starts on a settled machine (sync, then the\n")
	sb.WriteString("CPUs at least 90 % idle for half a second, 30 s at most).\n\n")
	sb.WriteString(facts + "\n" + table + "\n")
	sb.WriteString("What the rows include:\n\n")
	for _, n := range notes {
		sb.WriteString("- " + n + "\n")
	}
	sb.WriteString("\n")
	if scale != "" {
		sb.WriteString(scale + "\n")
	}
	for _, f := range failed {
		sb.WriteString("**Failed:** " + f + "\n\n")
	}
	sb.WriteString("## Raw benchmark lines\n\n```\n")
	for _, l := range raw {
		if strings.HasPrefix(l, "Benchmark") || strings.HasPrefix(l, "pkg:") || strings.HasPrefix(l, "--- ") {
			if len(l) > 300 {
				l = l[:300] + "…"
			}
			sb.WriteString(l + "\n")
		}
	}
	sb.WriteString("```\n")
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(sb.String()), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
