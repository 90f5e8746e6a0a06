package main

import (
	"fmt"
	"os/exec"
	"slices"
	"time"
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
