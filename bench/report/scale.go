package main

import (
	"fmt"
	"strings"
)

// Issue 4 states its aims beside numbers measured on its own machine.
// reference names each of them and the benchmark that measures the same
// thing here, so the report can say how this machine compares.
type reference struct {
	what  string
	there float64 // ms, as the issue gives it
	here  metric
}

var issueFloor = metric{"./runtime/sandbox", "BenchmarkIssueFloorTrue", "p50-ms"}

var issue4References = []reference{
	{"`docker run --rm ... true`", 254, m("./runtime", "BenchmarkDockerRunTrue", "p50-ms")},
	{"`runc run`", 31, m("./runtime", "BenchmarkRuncRunTrue", "p50-ms")},
	{"bare unshare + overlay mount + chroot + exec, a whole process", issue4Floor, issueFloor},
}

// The issue's aim for create+start+exit and its floor, in ms on its
// machine.
const (
	issue4Aim   = 8.0
	issue4Floor = 5.0
)

var issue4Ours = m("./runtime", "BenchmarkCreateStartExitTrue", "to-exit-p50-ms")

// scaleSection compares this machine with the issue's, peer by peer,
// and puts ours beside the floor measured here. Empty when none of the
// references ran.
func scaleSection(r results) string {
	var sb strings.Builder
	n := 0
	for _, ref := range issue4References {
		here, ok := r.ms(ref.here)
		if !ok {
			continue
		}
		if n == 0 {
			sb.WriteString("## This machine beside issue 4's\n\n")
			sb.WriteString("Issue 4 gives its aim (create+start+exit of `/bin/true` in 8 ms or less: \"the floor\") beside times measured on its machine. The same measures here, p50:\n\n")
			sb.WriteString("| measure | issue's machine | here | here ÷ there |\n| --- | --- | --- | --- |\n")
		}
		n++
		fmt.Fprintf(&sb, "| %s | %s | %s | %.1f× |\n", ref.what, fmtMS(ref.there), fmtMS(here), here/ref.there)
	}
	if n == 0 {
		return ""
	}
	ours, okOurs := r.ms(issue4Ours)
	floor, okFloor := r.ms(issueFloor)
	if okOurs && okFloor {
		fmt.Fprintf(&sb, "\nOurs, create+start+exit back to back: %s, %.2f× the floor measured here in the same run (the aim, %s where the floor took %s: %.2f×).\n",
			fmtMS(ours), ours/floor, fmtMS(issue4Aim), fmtMS(issue4Floor), issue4Aim/issue4Floor)
	}
	return sb.String()
}
