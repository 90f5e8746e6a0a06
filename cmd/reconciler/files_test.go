package main

import (
	"archive/tar"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/internal/testutil"
)

// TestContainerCpDiffExport runs reconciler cp, diff and export on a state
// root, in process, as a user would type them.
func TestContainerCpDiffExport(t *testing.T) {
	cli := ctrCLI{t, containerRoot(t)}
	host := t.TempDir()
	read := func(p string) string { return testutil.ReadFile(t, p) }
	cli.ok("run", "-d", "--name", "fs", "bb:1", "sh", "-c", "echo hi > /a.txt; mkdir /d; echo x > /d/y; sleep 300")
	cli.eventually("hi\n", "exec", "fs", "cat", "/a.txt")
	if diff := cli.ok("diff", "fs"); !strings.Contains(diff, "A /a.txt\n") || !strings.Contains(diff, "A /d/y\n") {
		t.Fatalf("diff:\n%s", diff)
	}
	if diff := cli.ok("container", "diff", "fs"); !strings.Contains(diff, "A /a.txt\n") {
		t.Fatalf("container diff:\n%s", diff)
	}

	cli.ok("cp", "fs:/a.txt", filepath.Join(host, "a.txt"))
	cli.ok("cp", "fs:/d", filepath.Join(host, "dd"))
	cli.ok("cp", "fs:/d/.", filepath.Join(host, "contents"))
	if read(filepath.Join(host, "a.txt")) != "hi\n" || read(filepath.Join(host, "dd", "y")) != "x\n" || read(filepath.Join(host, "contents", "y")) != "x\n" {
		t.Fatal("cp out copied the wrong content")
	}
	out := cli.ok("cp", "fs:/a.txt", "-")
	if h, err := tar.NewReader(strings.NewReader(out)).Next(); err != nil || h.Name != "a.txt" {
		t.Fatalf("cp to stdout: %v, %v", h, err)
	}
	if _, errs, code := cli.run("cp", "fs:/nope", filepath.Join(host, "x")); code != 1 || !strings.Contains(errs, "Could not find the file /nope in container fs") {
		t.Fatalf("cp of a missing path: exit %d, %s", code, errs)
	}

	os.WriteFile(filepath.Join(host, "in.txt"), []byte("in\n"), 0o644)
	cli.ok("cp", filepath.Join(host, "in.txt"), "fs:/d/renamed.txt")
	cli.ok("cp", filepath.Join(host, "dd"), "fs:/copied")
	if got := cli.ok("exec", "fs", "cat", "/d/renamed.txt", "/copied/y"); got != "in\nx\n" {
		t.Fatalf("after cp in: %q", got)
	}

	tarPath := filepath.Join(host, "f.tar")
	cli.ok("export", "-o", tarPath, "fs")
	f, err := os.Open(tarPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names := map[string]bool{}
	for tr := tar.NewReader(f); ; {
		h, err := tr.Next()
		if err != nil {
			break
		}
		names[h.Name] = true
	}
	if !names["a.txt"] || !names["d/renamed.txt"] || !names["bin/busybox"] {
		t.Fatalf("export lacks files: %v", names)
	}
}
