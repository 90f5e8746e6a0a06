package build

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchDockerfile is the 6-step FROM scratch Dockerfile (no RUN) of the
// build benchmarks. For scale: docker's classic builder takes about 825 ms
// cold, 94 ms fully cached and 538 ms with one COPYed file changed for a
// 6-step Dockerfile on the machines this project runs on.
const benchDockerfile = `FROM scratch
COPY bin/ /usr/local/bin/
ENV APP_ENV=production
WORKDIR /app
COPY . /app/
CMD ["/usr/local/bin/app"]
`

// benchContext writes a context like a small service: a 4 MiB binary and
// 100 source files of 8 KiB in nested folders.
func benchContext(b *testing.B) string {
	dir := b.TempDir()
	files := map[string]string{
		"Dockerfile":    benchDockerfile,
		".dockerignore": "*.tmp\n",
		"bin/app":       strings.Repeat("\x7fELF binary ", 4<<20/12),
		"scratch.tmp":   "ignored",
	}
	for i := 0; i < 100; i++ {
		files[fmt.Sprintf("src/pkg%d/file%d.go", i%10, i)] = strings.Repeat(fmt.Sprintf("// line of file %d\n", i), 8<<10/20)
	}
	writeFiles(b, dir, files)
	return dir
}

// BenchmarkBuildCold builds into an empty store every time.
func BenchmarkBuildCold(b *testing.B) {
	dir := benchContext(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := openStore(b)
		forgetSums()
		b.StartTimer()
		r := mustBuild(b, s, dir, "", Options{Tags: []string{"bench:1"}})
		if strings.Contains(r.out, "Using cache") {
			b.Fatal("cold build used the cache")
		}
	}
}

// BenchmarkBuildCached rebuilds an unchanged context: every step is a hit.
// Every file is hashed again, as by a new `reconciler build` process.
func BenchmarkBuildCached(b *testing.B) { benchCached(b, false) }

// BenchmarkBuildCachedWarm is BenchmarkBuildCached in a long-lived process
// (the daemon), where unchanged files are not hashed again.
func BenchmarkBuildCachedWarm(b *testing.B) { benchCached(b, true) }

func benchCached(b *testing.B, warm bool) {
	dir := benchContext(b)
	s := openStore(b)
	mustBuild(b, s, dir, "", Options{Tags: []string{"bench:1"}})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !warm {
			forgetSums()
		}
		r := mustBuild(b, s, dir, "", Options{Tags: []string{"bench:1"}})
		if n := strings.Count(r.out, "Using cache"); n != 5 {
			b.Fatalf("cached build: %d hits, want 5:\n%s", n, r.out)
		}
	}
}

// BenchmarkBuildOneFileChanged changes one source file before each build:
// the steps before `COPY . /app/` hit, that step and the CMD after it miss.
// Every file is hashed again, as by a new `reconciler build` process.
func BenchmarkBuildOneFileChanged(b *testing.B) {
	dir := benchContext(b)
	s := openStore(b)
	mustBuild(b, s, dir, "", Options{Tags: []string{"bench:1"}})
	changed := filepath.Join(dir, "src/pkg3/file3.go")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if err := os.WriteFile(changed, []byte(fmt.Sprintf("// version %d\n", i)), 0o644); err != nil {
			b.Fatal(err)
		}
		forgetSums()
		b.StartTimer()
		r := mustBuild(b, s, dir, "", Options{Tags: []string{"bench:1"}})
		if n := strings.Count(r.out, "Using cache"); n != 3 {
			b.Fatalf("one file changed: %d hits, want 3:\n%s", n, r.out)
		}
	}
}

// forgetSums empties the process's file hash cache, as a new process starts.
func forgetSums() {
	sums.mu.Lock()
	clear(sums.m)
	sums.mu.Unlock()
}
