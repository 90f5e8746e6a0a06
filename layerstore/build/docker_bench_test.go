package build

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/internal/testpeer"
)

// The BenchmarkDockerBuild* functions time docker's classic builder
// (DOCKER_BUILDKIT=0) on the same Dockerfile and context as the
// BenchmarkBuild* functions, against an isolated dockerd, so `make bench`
// prints both side by side. They skip without root or dockerd.

// classicBuild runs `docker build` with the classic builder against d.
func classicBuild(b *testing.B, dockerd *testpeer.Dockerd, dir string, args ...string) string {
	cmd := exec.CommandContext(context.Background(), "docker", append([]string{"-H", dockerd.Host, "build"}, append(args, dir)...)...)
	cmd.Env = append(os.Environ(), "DOCKER_BUILDKIT=0", "DOCKER_CONFIG="+filepath.Join(dockerd.Dir, "client"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("docker build: %v\n%s", err, out)
	}
	return string(out)
}

func startClassicDocker(b *testing.B) (*testpeer.Dockerd, string) {
	if _, err := exec.LookPath("docker"); err != nil {
		b.Skip("needs the docker CLI")
	}
	_, d := testpeer.StartDockerd(b)
	return d, benchContext(b)
}

func BenchmarkDockerBuildCold(b *testing.B) {
	d, dir := startClassicDocker(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if _, err := d.Docker(context.Background(), "system", "prune", "-a", "-f"); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if out := classicBuild(b, d, dir, "-t", "bench:1"); strings.Contains(out, "Using cache") {
			b.Fatalf("cold docker build used the cache:\n%s", out)
		}
	}
}

func BenchmarkDockerBuildCached(b *testing.B) {
	d, dir := startClassicDocker(b)
	classicBuild(b, d, dir, "-t", "bench:1")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if out := classicBuild(b, d, dir, "-t", "bench:1"); strings.Count(out, "Using cache") != 5 {
			b.Fatalf("cached docker build:\n%s", out)
		}
	}
}

func BenchmarkDockerBuildOneFileChanged(b *testing.B) {
	d, dir := startClassicDocker(b)
	classicBuild(b, d, dir, "-t", "bench:1")
	changed := filepath.Join(dir, "src/pkg3/file3.go")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if err := os.WriteFile(changed, []byte(fmt.Sprintf("// version %d\n", i)), 0o644); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if out := classicBuild(b, d, dir, "-t", "bench:1"); strings.Count(out, "Using cache") != 3 {
			b.Fatalf("one file changed, docker:\n%s", out)
		}
	}
}
