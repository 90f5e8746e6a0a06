package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testutil"
)

// busyboxContext writes, under dir/ctx, a build context for an image of
// Debian's static busybox with its applets installed.
func busyboxContext(t *testing.T, dir string) {
	t.Helper()
	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skip("needs /bin/busybox (Debian package busybox-static)")
	}
	os.Mkdir(filepath.Join(dir, "ctx"), 0o755)
	writeFile(t, filepath.Join(dir, "ctx", "busybox"), string(bb), 0o755)
	writeFile(t, filepath.Join(dir, "ctx", "Dockerfile"), "FROM scratch\nCOPY busybox /bin/busybox\n"+
		`RUN ["/bin/busybox","--install","-s","/bin"]`+"\n", 0o644)
}

// optionsManifest declares a container with every hardening, name and
// process option of kind Container; soft is its nofile soft limit. Its
// program notes its own oom_score_adj and logs 400 lines (about 30 kB)
// through 1 KiB log files before it sleeps.
func optionsManifest(soft string) string {
	return `apiVersion: reconciler/v1
kind: Image
metadata: {name: optsimg}
spec: {tag: "opts:1", build: {context: ctx}}
---
apiVersion: reconciler/v1
kind: Container
metadata: {name: opts}
spec:
  image: "opts:1"
  command: [sh, -c, "cat /proc/self/oom_score_adj >/dev/shm/oom; i=1; while [ $i -le 400 ]; do echo line-$i; i=$((i+1)); done; exec sleep 1000"]
  stopGracePeriod: 1s
  init: true
  oomScoreAdj: 500
  logging: {maxSize: 1Ki, maxFiles: 2}
  readOnlyRootFilesystem: true
  capDrop: [NET_RAW, chown]
  ulimits: [{name: nofile, soft: ` + soft + `, hard: 2048}]
  shmSize: 128Mi
  hostAliases: [{ip: 1.2.3.4, hostnames: [a, b]}]
  dnsConfig:
    nameservers: [10.0.0.53]
    searches: [svc.example]
    options: [{name: ndots, value: "2"}, {name: rotate}]
`
}

// optionsProbe prints, from inside the container, what each option
// should have changed.
const optionsProbe = `cat /etc/hosts; cat /etc/resolv.conf; echo nofile $(ulimit -n) $(ulimit -Hn); grep CapEff /proc/1/status
touch /x 2>/dev/null && echo rootfs writable || echo rootfs read-only; echo shm $(df -k /dev/shm | awk 'NR==2 {print $2}')k`

// checkOptions checks optionsProbe's output for the container of
// optionsManifest(soft).
func checkOptions(t *testing.T, how, out, soft string) {
	t.Helper()
	wantContains(t, how, out,
		"1.2.3.4\ta\n", "1.2.3.4\tb\n",
		"search svc.example\n", "nameserver 10.0.0.53\n", "options ndots:2 rotate\n",
		"nofile "+soft+" 2048\n",
		// Docker's default set (a80425fb) less NET_RAW (bit 13) and CHOWN (bit 0).
		"CapEff:\t00000000a80405fa\n",
		"rootfs read-only\n",
		"shm 131072k\n")
	if n := strings.Count(out, "nameserver "); n != 1 {
		t.Errorf("%s: %d nameservers, want only the manifest's:\n%s", how, n, out)
	}
}

// checkProcess checks, through a docker-like CLI (docker, or reconciler
// in process), that the container of optionsManifest runs under an init,
// with oomScoreAdj 500, and that its log rotated: at most maxFiles (2)
// files of at most maxSize (1 KiB) beside inspect's LogPath, the runtime's
// NAME, NAME.1, ..., holding the tail of what it wrote.
func checkProcess(t *testing.T, how string, cli func(args ...string) string) {
	t.Helper()
	if !testutil.WaitFor(time.Minute, func() bool { return strings.Contains(cli("logs", "--tail", "1", "opts"), "line-400") }) {
		t.Fatalf("%s: the container never logged line-400:\n%s", how, cli("logs", "opts"))
	}
	out := cli("exec", "opts", "sh", "-c", "echo pid1 $(cat /proc/1/comm); echo parent $(cat /proc/$(pidof sleep)/stat | cut -d' ' -f4); echo oom $(cat /dev/shm/oom)")
	wantContains(t, how+" exec", out, "pid1 docker-init\n", "parent 1\n", "oom 500\n")

	logPath := strings.TrimSpace(cli("inspect", "-f", "{{.LogPath}}", "opts"))
	files, _ := filepath.Glob(logPath + "*")
	if len(files) == 0 || len(files) > 2 {
		t.Errorf("%s: log files %v: want 1 or 2 (maxFiles: 2)", how, files)
	}
	for _, f := range files {
		if st, err := os.Stat(f); err != nil {
			t.Error(err)
		} else if st.Size() > 1024 {
			t.Errorf("%s: log file %s has %d bytes, maxSize is 1Ki", how, f, st.Size())
		}
	}
	lines := strings.Split(strings.TrimSuffix(cli("logs", "opts"), "\n"), "\n")
	first, _ := strconv.Atoi(strings.TrimPrefix(lines[0], "line-"))
	if first <= 1 || len(lines) != 400-first+1 || lines[len(lines)-1] != "line-400" {
		t.Errorf("%s: logs after rotation: %d lines from %q to %q, want the tail up to line-400", how, len(lines), lines[0], lines[len(lines)-1])
	}
}

// TestApplyContainerOptions: a manifest with readOnlyRootFilesystem,
// capDrop, ulimits, shmSize, hostAliases, dnsConfig, init, oomScoreAdj
// and logging, applied through
// our daemon (reconciler apply -> dockerapi/client -> the daemon's local
// engine) and then in process on a root without a daemon, yields a
// container that has each of them; a changed ulimit recreates it, named.
func TestApplyContainerOptions(t *testing.T) {
	requireE2E(t)
	dir := t.TempDir()
	busyboxContext(t, dir)
	manifest := filepath.Join(dir, "opts.yaml")
	writeFile(t, manifest, optionsManifest("1024"), 0o644)

	t.Run("through the daemon", func(t *testing.T) {
		root := newRoot(t)
		d := startDaemon(t, root, daemonOpts{})
		c := d.cli(t)
		apply := func() string { return reconciler(t, "--root", root, "apply", "-f", manifest, "--timeout", "2m") }
		wantContains(t, "apply", apply(), "create container/opts", "2 objects ready")
		if !strings.Contains(d.log(), "/containers/create?name=opts") {
			t.Errorf("reconciler apply did not create the container through the daemon")
		}
		checkProcess(t, "docker", c.ok)
		checkOptions(t, "docker exec", c.ok("exec", "opts", "sh", "-c", optionsProbe), "1024")
		inspect := c.ok("inspect", "-f", "{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}} {{range .HostConfig.Ulimits}}{{.Name}}={{.Soft}}:{{.Hard}}{{end}} "+
			"{{.HostConfig.ShmSize}} {{.HostConfig.ExtraHosts}} {{.HostConfig.Dns}} {{.HostConfig.DnsSearch}} {{.HostConfig.DnsOptions}}", "opts")
		if want := "true [CAP_CHOWN CAP_NET_RAW] nofile=1024:2048 134217728 [a:1.2.3.4 b:1.2.3.4] [10.0.0.53] [svc.example] [ndots:2 rotate]\n"; inspect != want {
			t.Errorf("docker inspect = %q, want %q", inspect, want)
		}
		inspect = c.ok("inspect", "-f", "{{.HostConfig.Init}} {{.HostConfig.OomScoreAdj}} {{json .HostConfig.LogConfig}}", "opts")
		if want := `true 500 {"Type":"json-file","Config":{"max-file":"2","max-size":"1024"}}` + "\n"; inspect != want {
			t.Errorf("docker inspect = %q, want %q", inspect, want)
		}
		if out := apply(); strings.Contains(out, "create") {
			t.Errorf("a second apply changed something:\n%s", out)
		}

		writeFile(t, manifest, optionsManifest("512"), 0o644)
		wantContains(t, "apply of a changed ulimit", apply(), "recreate container/opts: spec.ulimits[nofile].soft: 1024 -> 512")
		checkProcess(t, "docker after the change", c.ok)
		checkOptions(t, "docker exec after the change", c.ok("exec", "opts", "sh", "-c", optionsProbe), "512")
		wantContains(t, "delete", reconciler(t, "--root", root, "delete", "-f", manifest), "remove container/opts")
		writeFile(t, manifest, optionsManifest("1024"), 0o644)
	})

	t.Run("in process", func(t *testing.T) {
		root := newRoot(t)
		wantContains(t, "apply", reconciler(t, "--root", root, "apply", "-f", manifest, "--timeout", "2m"), "create container/opts", "2 objects ready")
		checkProcess(t, "reconciler", func(args ...string) string { return reconciler(t, append([]string{"--root", root}, args...)...) })
		checkOptions(t, "reconciler exec", reconciler(t, "--root", root, "exec", "opts", "sh", "-c", optionsProbe), "1024")
		wantContains(t, "delete", reconciler(t, "--root", root, "delete", "-f", manifest), "remove container/opts")
	})
}
