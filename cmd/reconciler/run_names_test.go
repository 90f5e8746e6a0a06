package main

import (
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
}
