package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBuildCLI(t *testing.T) {
	root, ctx := t.TempDir(), t.TempDir()
	files := map[string]string{
		"Dockerfile":     "FROM scratch\nARG GREETING\nCOPY hello.txt /\nENV GREETING=$GREETING\n",
		"alt/Dockerfile": "FROM scratch\nRUN true\n",
		"hello.txt":      "hi",
	}
	for name, content := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(ctx, name)), 0o755)
		if err := os.WriteFile(filepath.Join(ctx, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, errs, code := runVolumeCLI(t, root, "", "build", "-t", "hello:1", "--build-arg", "GREETING=hey", "--build-arg", "UNUSED=1", ctx)
	if code != 0 {
		t.Fatalf("build: exit %d: %s%s", code, out, errs)
	}
	for _, want := range []string{"Step 1/4 : FROM scratch\n", "Step 3/4 : COPY hello.txt /\n", "Successfully tagged hello:1\n", "[Warning] One or more build-args [UNUSED] were not consumed"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, _, code = runVolumeCLI(t, root, "", "build", "-t", "hello:1", "--build-arg", "GREETING=hey", ctx)
	if code != 0 || strings.Count(out, "Using cache") != 3 {
		t.Errorf("rebuild: exit %d, want 3 cache hits:\n%s", code, out)
	}
	// RUN runs in a container: a missing program fails naming the line; -f is relative to the current directory.
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	os.Chdir(ctx)
	_, errs, code = runVolumeCLI(t, root, "", "build", "-f", "alt/Dockerfile", ".")
	if code != 1 || !strings.Contains(errs, "alt/Dockerfile:2: RUN true") {
		t.Errorf("RUN of a program the image lacks: exit %d: %s", code, errs)
	}
	out, errs, code = runVolumeCLI(t, root, "FROM hello:1\nENV B=2\n", "build", "-q", "-f", "-", ".")
	if code != 0 || !strings.HasPrefix(out, "sha256:") || strings.Count(out, "\n") != 1 {
		t.Errorf("-q -f -: exit %d: %q %s", code, out, errs)
	}
	if _, errs, code = runVolumeCLI(t, root, "", "build"); code != 2 || !strings.Contains(errs, "requires exactly 1 argument") {
		t.Errorf("no context: exit %d: %s", code, errs)
	}
}
