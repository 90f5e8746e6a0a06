package main

import (
	"regexp"
	"strings"
	"testing"
)

// TestRunNamesAndRefusals: reconciler run writes --add-host and --dns*
// into the container's /etc files, and passes on the engine's refusal of
// what it cannot honour.
func TestRunNamesAndRefusals(t *testing.T) {
	cli := ctrCLI{t, containerRoot(t)}
	out := cli.ok("run", "--rm", "--add-host", "db:10.1.2.3", "--dns", "1.1.1.1", "--dns-search", "x.example", "--dns-option", "ndots:2",
		"bb:1", "cat", "/etc/hosts", "/etc/resolv.conf")
	for _, want := range []string{"10.1.2.3\tdb\n", "search x.example\nnameserver 1.1.1.1\noptions ndots:2\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	if _, errs, code := cli.run("run", "--network", "bridge", "bb:1", "true"); code == 0 || !strings.Contains(errs, "--network bridge: this engine has no bridge network") {
		t.Errorf("run --network bridge: exit %d, %q", code, errs)
	}
	if got := cli.ok("ps", "-a", "-q"); got != "" {
		t.Errorf("containers left: %q", got)
	}

	ls := cli.ok("network", "ls")
	if !regexp.MustCompile(`^NETWORK ID +NAME +DRIVER +SCOPE\n[0-9a-f]{12} +host +host +local\n[0-9a-f]{12} +none +null +local\n$`).MatchString(ls) {
		t.Errorf("network ls:\n%s", ls)
	}
	cli.ok("run", "-d", "--name", "netc", "bb:1", "sleep", "300")
	if got := cli.ok("network", "inspect", "-f", "{{.Driver}} {{range .Containers}}{{.Name}}{{end}}", "none", "host"); got != "null netc\nhost \n" {
		t.Errorf("network inspect: %q", got)
	}
	if _, errs, code := cli.run("network", "inspect", "nosuch"); code != 1 || !strings.Contains(errs, "network nosuch not found") {
		t.Errorf("network inspect nosuch: exit %d %q", code, errs)
	}
}
