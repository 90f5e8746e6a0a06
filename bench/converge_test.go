package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// convergeSizes are the numbers of containers converged; BENCH_CONVERGE
// (like "10,100") narrows them for a quick run.
func convergeSizes(b *testing.B) []int {
	env := os.Getenv("BENCH_CONVERGE")
	if env == "" {
		return []int{10, 100, 1000}
	}
	var out []int
	for _, f := range strings.Split(env, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			b.Fatalf("BENCH_CONVERGE=%q: want numbers like 10,100", env)
		}
		out = append(out, n)
	}
	return out
}

// BenchmarkConverge measures `reconciler apply -f DIR` bringing up n
// busybox containers declared in a manifest (default 8 workers) from
// nothing, beside a loop of `docker run -d` doing the same work on dockerd,
// one at a time (docker-seq) and eight at a time (docker-8wide), reporting
// medians (ours of three runs). Every timed run ends with all n containers
// running; removal is not timed.
// The docker loops run up to BENCH_PEER_MAX containers (default 100): at
// 1000 on a busy 2-core machine the eight-wide loop took about six minutes
// and dockerd 20.10 then hung removing them, so `make bench` measures
// ours alone there.
func BenchmarkConverge(b *testing.B) {
	tarball := busyboxTar(b)
	o, p := newOurs(b, tarball), newPeer(b, tarball)
	peerMax := 100
	if env := os.Getenv("BENCH_PEER_MAX"); env != "" {
		v, err := strconv.Atoi(env)
		if err != nil {
			b.Fatalf("BENCH_PEER_MAX=%q: want a number of containers", env)
		}
		peerMax = v
	}
	for _, n := range convergeSizes(b) {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			dir := convergeManifests(b, o, n)
			var s samples
			for i := 0; i < b.N; i++ {
				// Ours is quick enough to run three times (the median is
				// reported), but at the sizes too large for the docker
				// loops, where one run takes seconds.
				runs := 1
				if n <= peerMax {
					runs = 3
				}
				for j := 0; j < runs; j++ {
					out := ""
					s.add("ours", timed(func() { out = o.must(b, "apply", "-f", dir) }))
					if want := fmt.Sprintf("%d objects ready", n+1); !strings.Contains(out, want) {
						b.Fatalf("apply did not say %q:\n%s", want, out)
					}
					b.StopTimer()
					o.removeAll(b)
					b.StartTimer()
				}
				b.StopTimer()
				if p != nil && n <= peerMax {
					s.add("docker-seq", timed(func() { p.runLoop(b, n, 1) }))
					p.removeAll(b)
					s.add("docker-8wide", timed(func() { p.runLoop(b, n, 8) }))
					p.removeAll(b)
				}
				b.StartTimer()
			}
			s.report(b, "docker-seq", "docker-8wide")
		})
	}
}

// convergeManifests writes a folder declaring the busybox Image and n
// sleeping containers that use it.
func convergeManifests(b *testing.B, o *ours, n int) string {
	dir := b.TempDir()
	img, err := os.ReadFile(filepath.Join(o.manifests, "image.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	write(b, filepath.Join(dir, "image.yaml"), string(img))
	var sb strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, "---\n%s", containerDoc(fmt.Sprintf("c%04d", i), sleeper))
	}
	write(b, filepath.Join(dir, "containers.yaml"), sb.String())
	return dir
}

// containerDoc is the manifest of one container of the busybox image
// without a network, running args, with extra spec lines appended.
func containerDoc(name string, args []string, extra ...string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = strconv.Quote(a)
	}
	return fmt.Sprintf("apiVersion: reconciler/v1\nkind: Container\nmetadata: {name: %s}\nspec:\n  image: %s\n  network: none\n  command: [%s]\n%s",
		name, image, strings.Join(quoted, ", "), strings.Join(extra, ""))
}

// runLoop runs n sleeping containers with `docker run -d`, width at a time.
func (p *peer) runLoop(b *testing.B, n, width int) {
	next := make(chan int)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed error
	for w := 0; w < width; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				args := append([]string{"run", "-d", "--network", "none", "--name", fmt.Sprintf("c%04d", i), image}, sleeper...)
				if out, err := p.cmd(args...).CombinedOutput(); err != nil {
					mu.Lock()
					failed = fmt.Errorf("docker run: %v: %s", err, out)
					mu.Unlock()
				}
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
	if failed != nil {
		b.Fatal(failed)
	}
}
