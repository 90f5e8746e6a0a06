package main

import (
	"strings"
	"testing"
)

// The section compares each reference measured here with the issue's
// number, and ours with the floor of the same run.
func TestScaleSection(t *testing.T) {
	r := results{}
	r.parse("./runtime", []string{
		"BenchmarkRuncRunTrue-2   	     100	  84000000 ns/op	        62.0 p50-ms",
		"BenchmarkCreateStartExitTrue-2   	     100	  16000000 ns/op	        10.0 to-exit-p50-ms",
	})
	r.parse("./runtime/sandbox", []string{
		"BenchmarkIssueFloorTrue-2   	      40	  27796642 ns/op	        25.0 p50-ms",
	})
	got := scaleSection(r)
	for _, want := range []string{
		"| `runc run` | 31.0 ms | 62.0 ms | 2.0× |",
		"| bare unshare + overlay mount + chroot + exec, a whole process | 5.00 ms | 25.0 ms | 5.0× |",
		"10.0 ms, 0.40× the floor measured here",
		"8.00 ms where the floor took 5.00 ms: 1.60×",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "docker run") {
		t.Errorf("a reference that did not run is listed:\n%s", got)
	}
	if s := scaleSection(results{}); s != "" {
		t.Errorf("with nothing run: %q, want nothing", s)
	}
}
