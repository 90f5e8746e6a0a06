package localbackend

import (
	"strings"
	"testing"

	"github.com/reconciler/reconciler/dockerapi/clitest"
)

// TestDockerCLINetworking drives the docker CLI against the local engine:
// what it cannot honour (-p without host network, bridge networks, ...)
// is refused with the flag named and nothing created; -p with --network
// host warns as dockerd; --add-host and --dns* reach /etc/hosts and
// /etc/resolv.conf.
func TestDockerCLINetworking(t *testing.T) {
	cli := clitest.Find()
	if cli == "" {
		t.Skip("needs the docker CLI (/usr/local/bin/docker or docker.io)")
	}
	o := clitest.Options{Host: serveBusybox(t), Image: "busybox:local", CLI: cli}
	docker := func(t *testing.T, args ...string) (string, string, int) {
		t.Helper()
		return clitest.Docker(t, o, "", args...)
	}
	must := func(t *testing.T, args ...string) (string, string) {
		t.Helper()
		out, errOut, code := docker(t, args...)
		if code != 0 {
			t.Fatalf("docker %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return out, errOut
	}

	t.Run("refused", func(t *testing.T) {
		for _, tc := range []struct{ args, want string }{
			{"-p 8080:80", "docker: Error response from daemon: -p/--publish needs a bridge network, which this engine does not have: use --network host and have the program listen on the port"},
			{"-P", "-P/--publish-all needs a bridge network"},
			{"--network bridge", "--network bridge: this engine has no bridge network"},
			{"--network mynet", "--network mynet: no such network"},
			{"--device /dev/null", "--device is not supported"},
			{"--sysctl net.ipv4.ip_forward=1", "--sysctl is not supported"},
			{"--add-host gw:host-gateway", "--add-host gw:host-gateway: host-gateway needs a bridge network"},
		} {
			args := append(append([]string{"run", "--name", "refused"}, strings.Fields(tc.args)...), "busybox:local", "true")
			_, errOut, code := docker(t, args...)
			if code != 125 || !strings.Contains(errOut, tc.want) {
				t.Errorf("docker run %s: exit %d, stderr %q; want 125 and %q", tc.args, code, errOut, tc.want)
			}
		}
		if out, _ := must(t, "ps", "-a", "-q"); out != "" {
			t.Fatalf("refused runs left containers: %q", out)
		}
	})

	t.Run("publish-host-network", func(t *testing.T) {
		out, errOut := must(t, "run", "--rm", "--network", "host", "-p", "8080:80", "busybox:local", "echo", "ran")
		if out != "ran\n" || !strings.Contains(errOut, "WARNING: Published ports are discarded when using host network mode") {
			t.Fatalf("stdout %q, stderr %q", out, errOut)
		}
	})

	t.Run("networks", func(t *testing.T) { clitest.Networks(t, o) })

	t.Run("system-prune", func(t *testing.T) {
		must(t, "create", "busybox:local")
		if out, _ := must(t, "system", "prune", "-f"); !strings.Contains(out, "Total reclaimed space") {
			t.Errorf("system prune: %q", out)
		}
		if out, _ := must(t, "ps", "-a", "-q"); out != "" {
			t.Errorf("system prune left %q", out)
		}
	})

	t.Run("etc-files", func(t *testing.T) {
		out, _ := must(t, "run", "--rm", "--add-host", "a:1.2.3.4", "--add-host", "v6:fd00::1", "--dns", "1.1.1.1",
			"--dns-search", "x.example", "--dns-option", "ndots:2", "busybox:local", "cat", "/etc/hosts", "/etc/resolv.conf")
		for _, want := range []string{"127.0.0.1\tlocalhost\n", "1.2.3.4\ta\n", "fd00::1\tv6\n", "search x.example\nnameserver 1.1.1.1\noptions ndots:2\n"} {
			if !strings.Contains(out, want) {
				t.Errorf("missing %q in\n%s", want, out)
			}
		}
		out, _ = must(t, "run", "--rm", "--network", "host", "--add-host", "gw:host-gateway", "--dns", "9.9.9.9", "busybox:local", "cat", "/etc/hosts", "/etc/resolv.conf")
		if !strings.Contains(out, "127.0.0.1\tgw\n") || !strings.Contains(out, "nameserver 9.9.9.9\n") || strings.Count(out, "nameserver") != 1 {
			t.Errorf("host network:\n%s", out)
		}
		id, _ := must(t, "create", "--add-host", "a:1.2.3.4", "--dns", "1.1.1.1", "--dns-search", "x.example", "--dns-option", "ndots:2", "busybox:local")
		defer docker(t, "rm", "-f", strings.TrimSpace(id))
		out, _ = must(t, "inspect", "--format", "{{.HostConfig.ExtraHosts}} {{.HostConfig.Dns}} {{.HostConfig.DnsSearch}} {{.HostConfig.DnsOptions}}", strings.TrimSpace(id))
		if out != "[a:1.2.3.4] [1.1.1.1] [x.example] [ndots:2]\n" {
			t.Errorf("inspect: %q", out)
		}
	})
}
