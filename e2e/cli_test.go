package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testutil"
)

// cli runs the real docker CLI against one endpoint with a private config.
type cli struct {
	t      *testing.T
	host   string   // -H value
	env    []string // extra environment (TLS settings)
	config string   // DOCKER_CONFIG
}

func newCLI(t *testing.T, host string, env ...string) *cli {
	return &cli{t: t, host: host, env: env, config: t.TempDir()}
}

// result is what a docker command printed and its exit code.
type result struct {
	Out, Err string
	Code     int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", r.Code, r.Out, r.Err)
}

func (c *cli) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, dockerBin, append([]string{"-H", c.host}, args...)...)
	cmd.Env = append([]string{"HOME=" + c.config, "DOCKER_CONFIG=" + c.config, "PATH=/usr/bin:/bin"}, c.env...)
	return cmd
}

// runIn runs docker with stdin (may be nil) and a 90s limit.
func (c *cli) runIn(stdin io.Reader, args ...string) result {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := c.command(ctx, args...)
	var out, errb bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &out, &errb
	err := cmd.Run()
	r := result{Out: out.String(), Err: errb.String()}
	if ctx.Err() != nil {
		r.Code = -1
		r.Err += "\n(docker " + strings.Join(args, " ") + " hung for 90s and was killed)"
	} else if err != nil {
		r.Code = -1
		if ee, ok := err.(*exec.ExitError); ok {
			r.Code = ee.ExitCode()
		} else {
			r.Err += err.Error()
		}
	}
	return r
}

// try runs docker and returns whatever happened.
func (c *cli) try(args ...string) result { return c.runIn(nil, args...) }

// ok runs docker and fails the test unless it exits 0; it returns stdout.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	r := c.try(args...)
	if r.Code != 0 {
		c.t.Fatalf("docker %s: %s", strings.Join(args, " "), r)
	}
	return r.Out
}

// fails runs docker and reports an error unless it exits non-zero.
func (c *cli) fails(args ...string) result {
	c.t.Helper()
	r := c.try(args...)
	if r.Code == 0 {
		c.t.Errorf("docker %s succeeded, want a failure: %s", strings.Join(args, " "), r)
	}
	return r
}

// bgCmd is a docker command left running (logs -f, events).
type bgCmd struct {
	cmd  *exec.Cmd
	out  *testutil.SyncBuffer
	errb *testutil.SyncBuffer
	done chan struct{}
}

// background starts docker; it is killed when the test ends.
func (c *cli) background(args ...string) *bgCmd {
	c.t.Helper()
	b := &bgCmd{cmd: c.command(context.Background(), args...), out: &testutil.SyncBuffer{}, errb: &testutil.SyncBuffer{}, done: make(chan struct{})}
	b.cmd.Stdout, b.cmd.Stderr = b.out, b.errb
	if err := b.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	go func() { b.cmd.Wait(); close(b.done) }()
	c.t.Cleanup(func() { b.cmd.Process.Kill(); <-b.done })
	return b
}

// exited waits up to d for the command to end.
func (b *bgCmd) exited(d time.Duration) bool {
	select {
	case <-b.done:
		return true
	case <-time.After(d):
		return false
	}
}

// buildBusybox builds tag on the daemon with `docker build`: FROM scratch,
// Debian's static busybox, its applets installed by a RUN step.
func buildBusybox(t *testing.T, c *cli, tag string) {
	t.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skip("needs /bin/busybox (Debian package busybox-static)")
	}
	ctx := t.TempDir()
	writeFile(t, filepath.Join(ctx, "busybox"), string(bb), 0o755)
	writeFile(t, filepath.Join(ctx, "Dockerfile"), "FROM scratch\n"+
		"COPY busybox /bin/busybox\n"+
		`RUN ["/bin/busybox","--install","-s","/bin"]`+"\n"+
		`CMD ["sh"]`+"\n", 0o644)
	out := c.ok("build", "-t", tag, ctx)
	if !strings.Contains(out, "Successfully tagged "+tag) {
		t.Fatalf("docker build -t %s: output lacks %q:\n%s", tag, "Successfully tagged "+tag, out)
	}
}

// buildFrom builds tag from a Dockerfile's text with an empty context.
func buildFrom(t *testing.T, c *cli, tag, dockerfile string) string {
	t.Helper()
	ctx := t.TempDir()
	writeFile(t, filepath.Join(ctx, "Dockerfile"), dockerfile, 0o644)
	return c.ok("build", "-t", tag, ctx)
}

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// lines splits output into its non-empty lines.
func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out
}

// wantContains reports an error for each part missing from got.
func wantContains(t *testing.T, what, got string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(got, p) {
			t.Errorf("%s: want %q in:\n%s", what, p, got)
		}
	}
}
