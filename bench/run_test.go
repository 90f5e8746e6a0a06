package bench

import (
	"os/exec"
	"testing"
)

// BenchmarkRunTrue is `run --rm --network none busybox /bin/true` through
// each engine's own CLI: `reconciler run` (no daemon: the CLI creates,
// starts, waits for and removes the container itself; and, as
// ours-daemon, through our daemon) beside `docker run` (CLI, dockerd,
// containerd, shim, runc). All include their CLI's start.
func BenchmarkRunTrue(b *testing.B) {
	tarball := busyboxTar(b)
	o, d, p := newOurs(b, tarball), newServed(b, tarball), newPeer(b, tarball)
	args := []string{"run", "--rm", "--network", "none", image, "/bin/true"}
	var s samples
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.add("ours", timed(func() { o.must(b, args...) }))
		s.add("ours-daemon", timed(func() { d.must(b, args...) }))
		if p != nil {
			s.add("docker", timed(func() { p.must(b, args...) }))
		}
	}
	b.StopTimer()
	s.report(b, "docker")
	s.reportAlso(b, "ours-daemon")
}

// BenchmarkRunFirstInstruction is the time from `run` to the first
// instruction of the container's program (busybox tee opening a FIFO
// bind-mounted from the host), through each engine's own CLI (ours with
// and without a daemon).
func BenchmarkRunFirstInstruction(b *testing.B) {
	tarball := busyboxTar(b)
	o, d, p := newOurs(b, tarball), newServed(b, tarball), newPeer(b, tarball)
	var s samples
	measure := func(name string, cmd func(...string) *exec.Cmd) {
		dir, opened := fifo(b)
		c := cmd("run", "--rm", "--network", "none", "-v", dir+":/m", image, "/bin/busybox", "tee", "/m/fifo")
		s.add(name, startUntilOpened(b, c, opened))
		if err := c.Wait(); err != nil {
			b.Fatalf("%s run: %v\n%s", name, err, c.Stdout)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		measure("ours", o.cmd)
		measure("ours-daemon", d.cmd)
		if p != nil {
			measure("docker", p.cmd)
		}
	}
	b.StopTimer()
	s.report(b, "docker")
	s.reportAlso(b, "ours-daemon")
}
