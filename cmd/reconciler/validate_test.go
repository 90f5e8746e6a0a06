package main

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden .err files of examples/invalid")

// repoRoot is computed before any test changes directory.
var repoRoot = func() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Join(wd, "..", "..")
}()

// runCLI runs the reconciler command line in process from the repository
// root and returns what it printed and its exit code, as main would.
func runCLI(t *testing.T, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	t.Chdir(repoRoot)
	var out, errOut bytes.Buffer
	root := newRootCmd()
	root.SetArgs(args)
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&out)
	root.SetErr(&errOut)
	if err := root.Execute(); err != nil {
		var ee *exitError
		if !errors.As(err, &ee) {
			t.Fatalf("%v: error %v is not an exitError", args, err)
		}
		if ee.msg != "" {
			errOut.WriteString(ee.msg + "\n")
		}
		code = ee.code
	}
	return out.String(), errOut.String(), code
}

func TestValidateExamples(t *testing.T) {
	stdout, stderr, code := runCLI(t, "", "validate", "-f", "examples/")
	want := "container/counter on local\nimage/counter on local\nvolume/counter-data on local\n"
	if code != 0 || stdout != want || stderr != "" {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s\nwant stdout:\n%s", code, stdout, stderr, want)
	}
}

// TestInvalidExamples checks that every examples/invalid/*.yaml fails with
// exactly its golden .err output. go test ./cmd/reconciler -run
// TestInvalidExamples -update rewrites the golden files.
func TestInvalidExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(repoRoot, "examples/invalid/*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no invalid examples: %v", err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			golden := strings.TrimSuffix(f, ".yaml") + ".err"
			stdout, stderr, code := runCLI(t, "", "validate", "-f", "examples/invalid/"+name)
			if code != 1 || stdout != "" {
				t.Errorf("exit %d, stdout %q: want exit 1 and no output", code, stdout)
			}
			if *updateGolden {
				if err := os.WriteFile(golden, []byte(stderr), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), stderr); diff != "" {
				t.Errorf("%s (-want +got):\n%s", golden, diff)
			}
		})
	}
}

// TestValidateOutputRoundTrip reads the printed objects back: they must be
// valid manifests with the same hashes, in YAML and in JSON.
func TestValidateOutputRoundTrip(t *testing.T) {
	for _, format := range []string{"yaml", "json"} {
		printed, stderr, code := runCLI(t, "", "validate", "-f", "examples/", "-o", format)
		if code != 0 {
			t.Fatalf("-o %s: exit %d: %s", format, code, stderr)
		}
		if n := strings.Count(printed, annotationSpecHash); n != 3 {
			t.Fatalf("-o %s printed %d hashes:\n%s", format, n, printed)
		}
		again, stderr, code := runCLI(t, printed, "validate", "-f", "-", "-o", format)
		if code != 0 {
			t.Fatalf("-o %s read back: exit %d: %s\n%s", format, code, stderr, printed)
		}
		hashes := func(s string) (out []string) {
			for _, line := range strings.Split(s, "\n") {
				if strings.Contains(line, annotationSpecHash) {
					out = append(out, strings.TrimSpace(line))
				}
			}
			return out
		}
		if diff := cmp.Diff(hashes(printed), hashes(again)); diff != "" {
			t.Errorf("-o %s: hashes changed on reading back (-first +second):\n%s", format, diff)
		}
	}
}

func TestValidateUsage(t *testing.T) {
	for _, args := range [][]string{
		{"validate"},
		{"validate", "-f", "examples/", "-o", "xml"},
		{"validate", "examples/"},
		{"validate", "--bogus"},
	} {
		_, stderr, code := runCLI(t, "", args...)
		if code != 2 || !strings.Contains(stderr, "See 'reconciler validate --help'.") {
			t.Errorf("%v: exit %d, stderr %q; want usage error, exit 2", args, code, stderr)
		}
	}
	_, stderr, code := runCLI(t, "", "validate", "-f", "no/such/dir")
	if code != 1 || stderr != "no/such/dir: no such file or folder\n1 problem in 1 file\n" {
		t.Errorf("missing path: exit %d, stderr %q", code, stderr)
	}
}
