package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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

// optionsManifest declares a container with every hardening and name
// option of kind Container; soft is its nofile soft limit.
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
  command: [sleep, "1000"]
  stopGracePeriod: 1s
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

// TestApplyContainerOptions: a manifest with readOnlyRootFilesystem,
// capDrop, ulimits, shmSize, hostAliases and dnsConfig, applied through
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
		checkOptions(t, "docker exec", c.ok("exec", "opts", "sh", "-c", optionsProbe), "1024")
		inspect := c.ok("inspect", "-f", "{{.HostConfig.ReadonlyRootfs}} {{.HostConfig.CapDrop}} {{range .HostConfig.Ulimits}}{{.Name}}={{.Soft}}:{{.Hard}}{{end}} "+
			"{{.HostConfig.ShmSize}} {{.HostConfig.ExtraHosts}} {{.HostConfig.Dns}} {{.HostConfig.DnsSearch}} {{.HostConfig.DnsOptions}}", "opts")
		if want := "true [CAP_CHOWN CAP_NET_RAW] nofile=1024:2048 134217728 [a:1.2.3.4 b:1.2.3.4] [10.0.0.53] [svc.example] [ndots:2 rotate]\n"; inspect != want {
			t.Errorf("docker inspect = %q, want %q", inspect, want)
		}
		if out := apply(); strings.Contains(out, "create") {
			t.Errorf("a second apply changed something:\n%s", out)
		}

		writeFile(t, manifest, optionsManifest("512"), 0o644)
		wantContains(t, "apply of a changed ulimit", apply(), "recreate container/opts: spec.ulimits[nofile].soft: 1024 -> 512")
		checkOptions(t, "docker exec after the change", c.ok("exec", "opts", "sh", "-c", optionsProbe), "512")
		wantContains(t, "delete", reconciler(t, "--root", root, "delete", "-f", manifest), "remove container/opts")
		writeFile(t, manifest, optionsManifest("1024"), 0o644)
	})

	t.Run("in process", func(t *testing.T) {
		root := newRoot(t)
		wantContains(t, "apply", reconciler(t, "--root", root, "apply", "-f", manifest, "--timeout", "2m"), "create container/opts", "2 objects ready")
		checkOptions(t, "reconciler exec", reconciler(t, "--root", root, "exec", "opts", "sh", "-c", optionsProbe), "1024")
		wantContains(t, "delete", reconciler(t, "--root", root, "delete", "-f", manifest), "remove container/opts")
	})
}
