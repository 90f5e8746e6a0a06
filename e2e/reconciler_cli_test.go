package e2e

import (
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testutil"
)

// reconciler runs the binary under test with args; it returns the combined
// output and fails the test on a non-zero exit.
func reconciler(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, reconcilerBin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("reconciler %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// TestReconcilerCLIThroughDaemon: our own CLI given the daemon's --root goes
// through the daemon (the daemon holds the root's lock), and what it does
// is what the docker CLI sees.
func TestReconcilerCLIThroughDaemon(t *testing.T) {
	requireE2E(t)
	root := newRoot(t)
	d := startDaemon(t, root, daemonOpts{})
	c := d.cli(t)
	buildBusybox(t, c, "bb:e2e")
	c.ok("run", "-d", "--name", "viadocker", "bb:e2e", "sleep", "1000")

	id := strings.TrimSpace(reconciler(t, "--root", root, "run", "-d", "--name", "viarec", "bb:e2e", "sleep", "1000"))
	if !fullID.MatchString(id) {
		t.Errorf("reconciler run -d printed %q, want a container ID", id)
	}
	if !strings.Contains(d.log(), `path="/v1.41/containers/create?name=viarec"`) {
		t.Errorf("reconciler --root %s run did not go through the daemon serving that root (no create request in its log)", root)
	}
	wantContains(t, "docker ps row of viarec", psRow(t, c.ok("ps"), "viarec"), id[:12], "bb:e2e")
	ps := reconciler(t, "--root", root, "ps")
	psRow(t, ps, "viadocker")
	psRow(t, ps, "viarec")
	if got := reconciler(t, "-H", "unix://"+d.sock, "stop", "-t", "1", "viarec"); got != "viarec\n" {
		t.Errorf("reconciler -H stop printed %q", got)
	}
	if got := c.ok("inspect", "-f", "{{.State.Status}}", "viarec"); got != "exited\n" {
		t.Errorf("after reconciler stop, docker inspect says %q", got)
	}
	reconciler(t, "--root", root, "rm", "viarec")
	if ps := c.ok("ps", "-a"); strings.Contains(ps, "viarec") {
		t.Errorf("after reconciler rm, docker ps -a still lists viarec:\n%s", ps)
	}
	// run --rm attached: the daemon removes the container, the command
	// still exits with its code.
	out, err := exec.Command(reconcilerBin, "--root", root, "run", "--rm", "--name", "once", "bb:e2e", "sh", "-c", rootIsVolatile+"; exit 6").Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 6 || string(out) != "volatile\n" {
		t.Errorf("reconciler run --rm through the daemon: %q, %v; want volatile and exit 6", out, err)
	}
	if ps := c.ok("ps", "-a"); strings.Contains(ps, "once") {
		t.Errorf("after reconciler run --rm, docker ps -a still lists it:\n%s", ps)
	}
	// As docker's CLI, it leaves the removal to the daemon (no DELETE
	// of a container already gone).
	if regexp.MustCompile(`method=DELETE .*status=404`).MatchString(d.log()) {
		t.Errorf("reconciler run --rm sent a DELETE after the daemon removed the container:\n%s", d.log())
	}
	c.ok("rm", "-f", "viadocker")
}

// TestApplyThroughDaemon: manifests applied with `reconciler apply` on the
// daemon's root converge, stay put when applied again, heal drift made with
// the docker CLI, roll out a changed env by recreating (the volume's data
// carried over), and delete leaves the retained volume.
func TestApplyThroughDaemon(t *testing.T) {
	requireE2E(t)
	root := newRoot(t)
	d := startDaemon(t, root, daemonOpts{})
	c := d.cli(t)
	dir := t.TempDir()
	busyboxContext(t, dir)
	manifest := filepath.Join(dir, "app.yaml")
	writeManifest := func(greeting string) {
		writeFile(t, manifest, `apiVersion: reconciler/v1
kind: Image
metadata: {name: appimg}
spec:
  tag: app:1
  build: {context: ctx}
---
apiVersion: reconciler/v1
kind: Volume
metadata: {name: appdata}
---
apiVersion: reconciler/v1
kind: Container
metadata: {name: web}
spec:
  image: app:1
  command: ["sh", "-c", "echo $GREETING >> /data/log; exec sleep 1000"]
  env: [{name: GREETING, value: `+greeting+`}]
  volumes: [{name: appdata, mountPath: /data}]
  restartPolicy: Always
  stopGracePeriod: 1s
`, 0o644)
	}
	apply := func() string { return reconciler(t, "--root", root, "apply", "-f", manifest) }
	managed := func() string {
		return c.ok("ps", "--filter", "label=io.reconciler.managed=true", "--format", "{{.ID}} {{.Names}}")
	}

	writeManifest("hello")
	wantContains(t, "first apply", apply(), "create container/web", "3 objects ready")
	first := managed()
	if !strings.HasSuffix(first, " web\n") || len(lines(first)) != 1 {
		t.Fatalf("docker ps of managed containers after apply = %q, want web", first)
	}
	if out := apply(); strings.Contains(out, "create") || managed() != first {
		t.Errorf("apply of unchanged manifests changed something:\n%s\nps: %q -> %q", out, first, managed())
	}

	c.ok("rm", "-f", "web") // drift, made behind the reconciler's back
	wantContains(t, "apply after docker rm -f web", apply(), "create container/web")
	healed := managed()
	if !strings.HasSuffix(healed, " web\n") || healed == first {
		t.Errorf("apply did not recreate the removed container: %q (before: %q)", healed, first)
	}

	writeManifest("bonjour")
	wantContains(t, "apply of a changed env", apply(), `recreate container/web: spec.env[GREETING]: "hello" -> "bonjour"`)
	if !testutil.WaitFor(10*time.Second, func() bool {
		return c.try("run", "--rm", "-v", "appdata:/data", "app:1", "cat", "/data/log").Out == "hello\nhello\nbonjour\n"
	}) {
		t.Errorf("the volume across recreations: %s", c.try("run", "--rm", "-v", "appdata:/data", "app:1", "cat", "/data/log"))
	}

	out := reconciler(t, "--root", root, "delete", "-f", manifest)
	wantContains(t, "reconciler delete", out, "remove container/web", "keep volume/appdata")
	if ps := c.ok("ps", "-a", "--format", "{{.Names}}"); ps != "" {
		t.Errorf("after delete, docker ps -a = %q", ps)
	}
	if vols := c.ok("volume", "ls", "-q"); vols != "appdata\n" {
		t.Errorf("after delete, docker volume ls -q = %q, want the retained appdata", vols)
	}
}
