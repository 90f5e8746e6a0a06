package localbackend

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/dockerapi/clitest"
	"github.com/reconciler/reconciler/internal/testutil"
)

// TestDockerCLIDiffCpExport drives docker diff, cp (out of and into a
// running and a stopped container, with a volume, through symlinks that
// point at "/") and export against the daemon over the local engine.
func TestDockerCLIDiffCpExport(t *testing.T) {
	cli := clitest.Find()
	if cli == "" {
		t.Skip("needs the docker CLI (/usr/local/bin/docker or docker.io)")
	}
	o := clitest.Options{Host: serveBusybox(t), Image: "busybox:local", CLI: cli}
	docker := func(args ...string) string {
		t.Helper()
		out, errOut, code := clitest.Docker(t, o, "", args...)
		if code != 0 {
			t.Fatalf("docker %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out
	}
	host := t.TempDir()
	read := func(p string) string { return testutil.ReadFile(t, p) }

	// Nothing changed yet: docker prints nothing.
	docker("create", "--name", "fresh", "busybox:local")
	if out := docker("diff", "fresh"); out != "" {
		t.Fatalf("diff of a fresh container: %q", out)
	}

	// Changes made once (a restart must not redo them).
	script := `[ -e /new.txt ] || { echo hello > /new.txt && rm /bin/ls && mkdir /dir && echo inner > /dir/f && ln -s / /escape && ln -s ../../.. /escape2; }; sleep 300`
	docker("run", "-d", "--name", "fs", "-v", "fsvol:/data", "busybox:local", "sh", "-c", script)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(docker("diff", "fs"), "/escape2") {
		if time.Now().After(deadline) {
			t.Fatal("the container's changes never showed in docker diff")
		}
		time.Sleep(50 * time.Millisecond)
	}
	diff := docker("diff", "fs")
	for _, want := range []string{"A /new.txt\n", "C /bin\n", "D /bin/ls\n", "A /dir\n", "A /dir/f\n", "A /escape\n", "A /data\n"} {
		if !strings.Contains(diff, want) {
			t.Errorf("docker diff lacks %q:\n%s", want, diff)
		}
	}

	// cpOut copies a file and a directory out of the container.
	cpOut := func(prefix string) {
		t.Helper()
		docker("cp", "fs:/new.txt", filepath.Join(host, prefix+".txt"))
		if got := read(filepath.Join(host, prefix+".txt")); got != "hello\n" {
			t.Fatalf("copied file: %q", got)
		}
		docker("cp", "fs:/dir", filepath.Join(host, prefix+"dir"))
		if got := read(filepath.Join(host, prefix+"dir", "f")); got != "inner\n" {
			t.Fatalf("copied dir: %q", got)
		}
	}

	t.Run("cp-out-running", func(t *testing.T) {
		cpOut("run")
		// Through links to "/" and "../../..": the container's root, not the host's.
		for _, p := range []string{"/escape/new.txt", "/escape2/new.txt"} {
			docker("cp", "fs:"+p, filepath.Join(host, "esc.txt"))
			if got := read(filepath.Join(host, "esc.txt")); got != "hello\n" {
				t.Fatalf("cp fs:%s: %q", p, got)
			}
		}
		out := docker("cp", "fs:/new.txt", "-")
		tr := tar.NewReader(strings.NewReader(out))
		if h, err := tr.Next(); err != nil || h.Name != "new.txt" {
			t.Fatalf("cp to stdout: first entry %v, %v", h, err)
		}
		_, errOut, code := clitest.Docker(t, o, "", "cp", "fs:/nope", filepath.Join(host, "x"))
		if code != 1 || !strings.Contains(errOut, "Could not find the file /nope in container fs") {
			t.Fatalf("cp of a missing path: exit %d, %s", code, errOut)
		}
	})

	t.Run("cp-in-running", func(t *testing.T) {
		in := filepath.Join(host, "in.txt")
		os.WriteFile(in, []byte("into running\n"), 0o644)
		docker("cp", in, "fs:/in.txt")
		if got := docker("exec", "fs", "cat", "/in.txt"); got != "into running\n" {
			t.Fatalf("exec cat: %q", got)
		}
		// Into a link to "/": lands in the container's root, never the host's.
		name := "reconciler-cp-escape-" + filepath.Base(host)
		os.WriteFile(filepath.Join(host, name), []byte("x\n"), 0o644)
		docker("cp", filepath.Join(host, name), "fs:/escape2/")
		if _, err := os.Stat("/" + name); err == nil {
			os.Remove("/" + name)
			t.Fatal("cp through a symlink wrote to the host's root")
		}
		if got := docker("exec", "fs", "cat", "/"+name); got != "x\n" {
			t.Fatalf("exec cat: %q", got)
		}
		docker("cp", in, "fs:/data/vol.txt")
	})

	docker("kill", "fs")
	docker("wait", "fs")

	t.Run("cp-out-stopped", func(t *testing.T) {
		cpOut("stopped")
		docker("cp", "fs:/data/vol.txt", filepath.Join(host, "vol.txt"))
		if got := read(filepath.Join(host, "vol.txt")); got != "into running\n" {
			t.Fatalf("copied from the volume: %q", got)
		}
	})

	t.Run("cp-in-stopped", func(t *testing.T) {
		in := filepath.Join(host, "in2.txt")
		os.WriteFile(in, []byte("into stopped\n"), 0o644)
		docker("cp", in, "fs:/bin/in2.txt")   // beside the image's files: /bin is copied up
		docker("cp", in, "fs:/bin/ls")        // deleted in the container, made again
		docker("cp", in, "fs:/data/vol2.txt") // into its volume
		dir := filepath.Join(host, "tree")
		os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
		os.WriteFile(filepath.Join(dir, "sub", "g"), []byte("g\n"), 0o644)
		docker("cp", dir, "fs:/dir/")
		if diff := docker("diff", "fs"); !strings.Contains(diff, "C /bin/ls\n") || !strings.Contains(diff, "A /bin/in2.txt\n") {
			t.Fatalf("diff after cp into the stopped container:\n%s", diff)
		}
		docker("start", "fs")
		for p, want := range map[string]string{"/bin/in2.txt": "into stopped\n", "/bin/ls": "into stopped\n", "/data/vol2.txt": "into stopped\n", "/dir/tree/sub/g": "g\n", "/bin/busybox": ""} {
			out := docker("exec", "fs", "cat", p)
			if want != "" && out != want {
				t.Errorf("after start, %s holds %q, want %q", p, out, want)
			}
		}
	})

	t.Run("export", func(t *testing.T) {
		f := filepath.Join(host, "fs.tar")
		docker("export", "-o", f, "fs")
		files := map[string]string{}
		tr := tar.NewReader(bytes.NewReader([]byte(read(f))))
		for {
			h, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(tr)
			files[h.Name] = string(b)
		}
		if files["new.txt"] != "hello\n" || files["bin/in2.txt"] != "into stopped\n" {
			t.Fatalf("export lacks the container's files: new.txt=%q bin/in2.txt=%q", files["new.txt"], files["bin/in2.txt"])
		}
		if _, ok := files["bin/busybox"]; !ok {
			t.Fatal("export lacks the image's files")
		}
		if _, ok := files["bin/ls"]; !ok {
			t.Fatal("export lacks the recreated /bin/ls")
		}
		if _, ok := files["data/vol.txt"]; ok {
			t.Fatal("export holds a volume's file")
		}
	})
}
