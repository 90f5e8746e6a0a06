// Package clitest drives the real docker CLI against a Docker Engine API
// endpoint and checks what a user sees: the same suite runs against our
// server over a fake engine (dockerapi/server's tests) and against the
// daemon over the local engine, over a unix socket, TCP or mutual TLS.
//
// The endpoint needs one busybox-like image (sh, echo, cat, env, sleep).
// Every object the suite makes carries a random suffix and is removed at
// the end, so it can run against a shared engine.
package clitest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testutil"
)

// Options say which endpoint to drive and how.
type Options struct {
	Host  string   // -H value: unix:///PATH or tcp://HOST:PORT
	Env   []string // extra environment, e.g. DOCKER_CERT_PATH and DOCKER_TLS_VERIFY=1
	Image string   // a busybox-like image present on the engine
	// PushPull runs docker push and pull of an imported image; the engine
	// must be able to push to and pull from the image's registry.
	PushPull bool
	// NoStdin skips `run -i` for engines that cannot feed a container's
	// stdin (the suite then does not claim it works).
	NoStdin bool
	CLI     string // docker binary; "" means Find()
}

// Find is the docker CLI to drive: DOCKER_CLI if set, else the CLI 28 in
// /usr/local/bin, else Debian's (docker.io) on PATH; "" if none.
func Find() string {
	if p := os.Getenv("DOCKER_CLI"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/local/bin/docker"); err == nil {
		return "/usr/local/bin/docker"
	}
	p, _ := exec.LookPath("docker")
	return p
}

// Run runs every suite as a subtest.
func Run(t *testing.T, o Options) {
	t.Run("containers", func(t *testing.T) { Containers(t, o) })
	t.Run("start-attach", func(t *testing.T) { StartAttach(t, o) })
	t.Run("images", func(t *testing.T) { Images(t, o) })
	t.Run("volumes-events-df", func(t *testing.T) { VolumesEventsDF(t, o) })
	t.Run("rename", func(t *testing.T) { Rename(t, o) })
	t.Run("networks", func(t *testing.T) { Networks(t, o) })
}

// cli runs docker commands for one suite.
type cli struct {
	t    *testing.T
	o    Options
	home string
}

func newCLI(t *testing.T, o Options) *cli {
	t.Helper()
	if o.CLI == "" {
		o.CLI = Find()
	}
	if o.CLI == "" {
		t.Skip("needs the docker CLI (/usr/local/bin/docker, or Debian's docker.io)")
	}
	return &cli{t: t, o: o, home: t.TempDir()}
}

func (c *cli) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, c.o.CLI, append([]string{"-H", c.o.Host}, args...)...)
	cmd.Env = append([]string{"HOME=" + c.home, "DOCKER_CONFIG=" + c.home + "/.docker", "PATH=/usr/bin:/bin"}, c.o.Env...)
	return cmd
}

// run runs docker with stdin; it returns stdout, stderr and the exit code.
func (c *cli) run(stdin string, args ...string) (string, string, int) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := c.command(ctx, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("docker %s: %v", strings.Join(args, " "), err)
	}
	return out.String(), errb.String(), code
}

// Docker runs one docker command against o's endpoint with stdin and
// returns stdout, stderr and the exit code: for tests outside the suites.
func Docker(t *testing.T, o Options, stdin string, args ...string) (string, string, int) {
	t.Helper()
	return newCLI(t, o).run(stdin, args...)
}

// must runs docker and fails the test on a non-zero exit.
func (c *cli) must(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run("", args...)
	if code != 0 {
		c.t.Fatalf("docker %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// cleanup removes objects at the end of the test, ignoring errors.
func (c *cli) cleanup(args ...string) {
	c.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c.command(ctx, args...).Run()
	})
}

// bg is a long-running docker command (events, attach).
type bg struct {
	cmd      *exec.Cmd
	done     chan struct{}
	code     int
	Out, Err *testutil.SyncBuffer
}

// background starts docker args; it is killed when the test ends.
func (c *cli) background(args ...string) *bg {
	c.t.Helper()
	b := &bg{cmd: c.command(context.Background(), args...), done: make(chan struct{}), Out: &testutil.SyncBuffer{}, Err: &testutil.SyncBuffer{}}
	b.cmd.Stdout, b.cmd.Stderr = b.Out, b.Err
	if err := b.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	go func() {
		b.cmd.Wait()
		b.code = b.cmd.ProcessState.ExitCode()
		close(b.done)
	}()
	c.t.Cleanup(func() {
		b.cmd.Process.Kill()
		<-b.done
	})
	return b
}

// wait waits up to d for the command to end and returns its exit code.
func (b *bg) wait(d time.Duration) (int, bool) {
	select {
	case <-b.done:
		return b.code, true
	case <-time.After(d):
		return 0, false
	}
}

// unique makes object names of one suite run distinct.
func unique(prefix string) string {
	b := make([]byte, 3)
	rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}
