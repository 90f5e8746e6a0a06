package main

// metric names one number in `go test -bench` output: the package (as
// given to go test), the benchmark (without its -GOMAXPROCS suffix) and
// the unit.
type metric struct{ pkg, bench, unit string }

// row is one comparison in the report.
type row struct {
	issue  int
	what   string
	ours   metric
	peer   *metric // nil: there is no peer doing the same work
	peerIs string  // the peer's name, or why there is none
	needs  []string
	target string
	// absent says why the peer's number may be missing although the
	// peer is installed (a loop left out for time).
	absent string
	full   bool // measured in the full run only, not by bench-quick
}

// group is one `go test -bench` run: benchmarks of one package that share
// a -benchtime.
type group struct {
	pkg, pattern string
	benchtime    string
	// count runs each benchmark that many times (full run only); the
	// report takes the median of each metric, which a burst of other
	// work on the machine (another guest's, on a VM) moves less.
	count    int
	quick    string // -benchtime for bench-quick
	env      []string
	quickEnv []string
}

var groups = []group{
	{pkg: "./layerstore/build", pattern: "^Benchmark(Docker)?Build(Cold|Cached|OneFileChanged)$", benchtime: "5x", quick: "2x"},
	{pkg: "./runtime", pattern: "^Benchmark(CreateStartExitTrue|CreateStartExitTrueWarm|TimeToFirstInstruction|TimeToFirstInstructionWarm|RuncRunTrue|RuncTimeToFirstInstruction|DockerRunTrue)$", benchtime: "100x", count: 3, quick: "5x"},
	// Alone: its writer leaves the disk busy for a while.
	{pkg: "./runtime", pattern: "^BenchmarkExitWhileHostWrites$", benchtime: "100x", count: 3, quick: "5x"},
	{pkg: "./runtime/sandbox", pattern: "^Benchmark(FirstInstruction|StartTrue|FloorTrue|IssueFloorTrue)$", benchtime: "100x", quick: "10x"},
	{pkg: "./reconcile", pattern: "^Benchmark(NoopResync|FileDropToRunning)$", benchtime: "50x", quick: "10x"},
	{pkg: "./reconcile/e2e", pattern: "^Benchmark(FileDropToRunningRealEngine|ConvergeRealEngine)$", benchtime: "3x", quick: "1x"},
	{pkg: "./bench", pattern: "^Benchmark(RunTrue|RunFirstInstruction|FileDropToRunning)$", benchtime: "15x", quick: "3x"},
	{pkg: "./bench", pattern: "^BenchmarkConverge$", benchtime: "1x", quick: "1x",
		env: []string{"BENCH_CONVERGE=10,100,1000"}, quickEnv: []string{"BENCH_CONVERGE=10"}},
}

var (
	docker = []string{"dockerd", "docker"}
	runc   = []string{"runc"}
)

func m(pkg, bench, unit string) metric  { return metric{pkg, bench, unit} }
func p(pkg, bench, unit string) *metric { return &metric{pkg, bench, unit} }

var rows = []row{
	// Issue 3: a 6-step FROM scratch Dockerfile, 4 MiB binary + 100 files.
	{issue: 3, what: "build, cold", ours: m("./layerstore/build", "BenchmarkBuildCold", "ns/op"),
		peer: p("./layerstore/build", "BenchmarkDockerBuildCold", "ns/op"), peerIs: "docker build (classic)", needs: docker, target: "well under docker (~825 ms)"},
	{issue: 3, what: "build, fully cached", ours: m("./layerstore/build", "BenchmarkBuildCached", "ns/op"),
		peer: p("./layerstore/build", "BenchmarkDockerBuildCached", "ns/op"), peerIs: "docker build (classic)", needs: docker, target: "well under docker (~94 ms)"},
	{issue: 3, what: "build, one COPYed file changed", ours: m("./layerstore/build", "BenchmarkBuildOneFileChanged", "ns/op"),
		peer: p("./layerstore/build", "BenchmarkDockerBuildOneFileChanged", "ns/op"), peerIs: "docker build (classic)", needs: docker, target: "well under docker (~538 ms)"},

	// Issue 4: busybox image, /bin/true or busybox tee opening a FIFO.
	{issue: 4, what: "create → first instruction, runtime API (p50)", ours: m("./runtime", "BenchmarkTimeToFirstInstruction", "p50-ms"),
		peer: p("./runtime", "BenchmarkRuncTimeToFirstInstruction", "p50-ms"), peerIs: "runc run", needs: runc, target: "≤ 8 ms"},
	{issue: 4, what: "create → first instruction, runtime API, warm (p50)", ours: m("./runtime", "BenchmarkTimeToFirstInstructionWarm", "p50-ms"),
		peer: p("./runtime", "BenchmarkTimeToFirstInstructionWarm", "runc-p50-ms"), peerIs: "runc run, interleaved", needs: runc, target: "≤ 8 ms"},
	{issue: 4, what: "create → first instruction, sandbox alone (p50)", ours: m("./runtime/sandbox", "BenchmarkFirstInstruction", "first-insn-p50-ms"),
		peerIs: "—", target: "≤ 8 ms"},
	{issue: 4, what: "run → first instruction, CLI to CLI (p50)", ours: m("./bench", "BenchmarkRunFirstInstruction", "ours-ms"),
		peer: p("./bench", "BenchmarkRunFirstInstruction", "docker-ms"), peerIs: "docker run --rm", needs: docker, target: "≥ 30× faster than docker"},
	{issue: 4, what: "create+start+exit /bin/true, runtime API", ours: m("./runtime", "BenchmarkCreateStartExitTrue", "to-exit-ms"),
		peer: p("./runtime", "BenchmarkRuncRunTrue", "ns/op"), peerIs: "runc run", needs: runc, target: "≤ 8 ms"},
	{issue: 4, what: "create+start+exit /bin/true, runtime API (p50)", ours: m("./runtime", "BenchmarkCreateStartExitTrue", "to-exit-p50-ms"),
		peer: p("./runtime", "BenchmarkRuncRunTrue", "p50-ms"), peerIs: "runc run", needs: runc, target: "≤ 8 ms"},
	{issue: 4, what: "create+start+exit+remove /bin/true, runtime API", ours: m("./runtime", "BenchmarkCreateStartExitTrue", "ns/op"),
		peer: p("./runtime", "BenchmarkDockerRunTrue", "ns/op"), peerIs: "docker run --rm", needs: docker, target: "≥ 30× faster than docker"},
	{issue: 4, what: "create+start+exit+remove /bin/true, runtime API (p50)", ours: m("./runtime", "BenchmarkCreateStartExitTrue", "p50-ms"),
		peer: p("./runtime", "BenchmarkDockerRunTrue", "p50-ms"), peerIs: "docker run --rm", needs: docker, target: "≥ 30× faster than docker"},
	{issue: 4, what: "create+start+exit /bin/true, runtime API, warm (p50)", ours: m("./runtime", "BenchmarkCreateStartExitTrueWarm", "to-exit-p50-ms"),
		peer: p("./runtime", "BenchmarkRuncRunTrue", "p50-ms"), peerIs: "runc run", needs: runc, target: "≤ 8 ms"},
	{issue: 4, what: "create+start+exit+remove /bin/true, runtime API, warm (p50)", ours: m("./runtime", "BenchmarkCreateStartExitTrueWarm", "p50-ms"),
		peer: p("./runtime", "BenchmarkDockerRunTrue", "p50-ms"), peerIs: "docker run --rm", needs: docker, target: "≥ 30× faster than docker"},
	{issue: 4, what: "create+start+exit /bin/true while the host writes 50 MB/s, warm (p50)", ours: m("./runtime", "BenchmarkExitWhileHostWrites/volatile", "to-exit-p50-ms"),
		peer: p("./runtime", "BenchmarkExitWhileHostWrites/durable", "to-exit-p50-ms"), peerIs: "ours, durable layer (as docker's)"},
	{issue: 4, what: "create+start+exit /bin/true, sandbox alone", ours: m("./runtime/sandbox", "BenchmarkStartTrue", "ns/op"),
		peer: p("./runtime/sandbox", "BenchmarkFloorTrue", "ns/op"), peerIs: "kernel floor", target: "≤ 8 ms"},
	{issue: 4, what: "create+start+exit /bin/true, runtime API (p50)", ours: m("./runtime", "BenchmarkCreateStartExitTrue", "to-exit-p50-ms"),
		peer: &issueFloor, peerIs: "the issue's floor, a whole process", target: "the floor (8 ms where it is 5 ms)"},
	{issue: 4, what: "run --rm /bin/true, CLI to CLI (p50)", ours: m("./bench", "BenchmarkRunTrue", "ours-ms"),
		peer: p("./bench", "BenchmarkRunTrue", "docker-ms"), peerIs: "docker run --rm", needs: docker, target: "≥ 30× faster than docker"},
	{issue: 4, what: "run → first instruction, CLI through our daemon (p50)", ours: m("./bench", "BenchmarkRunFirstInstruction", "ours-daemon-ms"),
		peer: p("./bench", "BenchmarkRunFirstInstruction", "docker-ms"), peerIs: "docker run --rm", needs: docker, target: "≥ 30× faster than docker"},
	{issue: 4, what: "run --rm /bin/true, CLI through our daemon (p50)", ours: m("./bench", "BenchmarkRunTrue", "ours-daemon-ms"),
		peer: p("./bench", "BenchmarkRunTrue", "docker-ms"), peerIs: "docker run --rm", needs: docker, target: "≥ 30× faster than docker"},

	// Issue 6: busybox containers running sh + sleep, no network.
	{issue: 6, what: "converge 10 containers (apply)", ours: m("./bench", "BenchmarkConverge/10", "ours-ms"),
		peer: p("./bench", "BenchmarkConverge/10", "docker-seq-ms"), peerIs: "docker run -d loop", needs: docker},
	{issue: 6, what: "converge 10 containers (apply)", ours: m("./bench", "BenchmarkConverge/10", "ours-ms"),
		peer: p("./bench", "BenchmarkConverge/10", "docker-8wide-ms"), peerIs: "docker run -d, 8-wide", needs: docker},
	{issue: 6, what: "converge 100 containers (apply)", ours: m("./bench", "BenchmarkConverge/100", "ours-ms"), full: true,
		peer: p("./bench", "BenchmarkConverge/100", "docker-seq-ms"), peerIs: "docker run -d loop", needs: docker, target: "≤ 1 s (docker ~24 s)"},
	{issue: 6, what: "converge 100 containers (apply)", ours: m("./bench", "BenchmarkConverge/100", "ours-ms"), full: true,
		peer: p("./bench", "BenchmarkConverge/100", "docker-8wide-ms"), peerIs: "docker run -d, 8-wide", needs: docker, target: "≤ 1 s (docker ~12 s)"},
	{issue: 6, what: "converge 1000 containers (apply)", ours: m("./bench", "BenchmarkConverge/1000", "ours-ms"), full: true,
		peer: p("./bench", "BenchmarkConverge/1000", "docker-seq-ms"), peerIs: "docker run -d loop", needs: docker,
		absent: "not run (BENCH_PEER_MAX=100)"},
	{issue: 6, what: "converge 1000 containers (apply)", ours: m("./bench", "BenchmarkConverge/1000", "ours-ms"), full: true,
		peer: p("./bench", "BenchmarkConverge/1000", "docker-8wide-ms"), peerIs: "docker run -d, 8-wide", needs: docker,
		absent: "not run (BENCH_PEER_MAX=100)"},
	{issue: 6, what: "converge 100 containers, in process (no CLI)", ours: m("./reconcile/e2e", "BenchmarkConvergeRealEngine/100", "ns/op"),
		peerIs: "—", target: "≤ 1 s"},
	{issue: 6, what: "no-op reconcile of 1000 objects, CPU", ours: m("./reconcile", "BenchmarkNoopResync", "cpu-ms/op"),
		peerIs: "— (docker has none)", target: "< 20 ms CPU"},
	{issue: 6, what: "file drop → running, watch + runtime (p50)", ours: m("./bench", "BenchmarkFileDropToRunning", "ours-ms"),
		peer: p("./bench", "BenchmarkFileDropToRunning", "docker-run-d-ms"), peerIs: "docker run -d", needs: docker, target: "< 100 ms"},
	{issue: 6, what: "file drop → running, in process + real engine", ours: m("./reconcile/e2e", "BenchmarkFileDropToRunningRealEngine", "ns/op"),
		peerIs: "—", target: "< 100 ms"},
	{issue: 6, what: "file drop → running, controller alone (fake engine)", ours: m("./reconcile", "BenchmarkFileDropToRunning", "ns/op"),
		peerIs: "—", target: "< 100 ms"},
}

// notes say what each kind of row includes, so that nobody compares a
// library call with a CLI process unawares.
var notes = []string{
	"build: ours is the layerstore/build library in process (no CLI start, no context upload); docker is `DOCKER_BUILDKIT=0 docker build` (CLI start, context sent to dockerd). Same 6-step FROM scratch Dockerfile and context (4 MiB binary + 100 files of 8 KiB).",
	"runtime API: ours is package runtime in process (container layer, durable as docker's; shim, wait; remove where the row says so, as `docker run --rm` does it), with shims (and inits, where there are: see the facts) started from a built reconciler-shim as the reconciler binary does; `runc run` is a process on a read-only copy of the same busybox root (no overlay, no shim); docker is `docker run --rm --network none` on the same root imported as an image. Back to back, each start takes the shim the last container freed; warm, the next container comes 50 ms (untimed) after the last.",
	"while the host writes: another writer fills the state root's file system at 50 MB/s without syncing. Unmounting a durable overlay layer at the container's exit (docker's, and ours without --rm) syncs that whole file system; a volatile one (ours with --rm, like podman's) does not.",
	"sandbox alone: package runtime/sandbox (namespaces, overlay, pivot_root, exec) without the shim and state files: the floor our runtime builds on.",
	"kernel floor: one fork of the benchmark into new mount, pid, uts, ipc and network namespaces, chrooted into an overlay of the same root, exec of /bin/true, its wait and the unmount; no init, shim, /proc, /dev, cgroup, caps or seccomp: what no runtime goes below on this host.",
	"the issue's floor: issue 4's \"bare unshare + overlay mount + chroot + exec floor\", timed as a whole process as the issue timed it: unshare(1) into new mount, pid, uts, ipc and network namespaces, sh mounting the overlay and exec'ing chroot(1), which execs /bin/true.",
	"CLI to CLI and converge: a fresh `reconciler` process (no daemon, state root on disk) beside fresh `docker` processes talking to an isolated dockerd; the busybox image is on both before the timing. \"Through our daemon\": a fresh `reconciler -H unix://...` process talking to `reconciler daemon` on a state root of its own, as the docker CLI talks to dockerd; measured interleaved with the other two.",
	"file drop: a manifest written into the folder `reconciler watch` watches, until the container's program opens a FIFO bind-mounted from the host; docker: `docker run -d` of the same container until the same FIFO opens.",
	"no-op reconcile: CPU time of one resync of 1000 converged containers on the fake engine (the controller's own cost); docker has no equivalent.",
}
