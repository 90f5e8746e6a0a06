package clitest

import (
	"regexp"
	"strings"
	"testing"
)

// Networks covers network ls, inspect (with a running container
// attached), prune, and the refusal of network create and rm: the engines
// have dockerd's host and none networks and no others.
func Networks(t *testing.T, o Options) {
	c := newCLI(t, o)
	ctr := unique("net")
	c.cleanup("rm", "-f", ctr)

	if got := c.must("network", "ls", "--format", "{{.Name}} {{.Driver}} {{.Scope}}"); got != "host host local\nnone null local\n" {
		t.Errorf("network ls: %q", got)
	}
	ls := c.must("network", "ls")
	if !regexp.MustCompile(`(?m)^NETWORK ID +NAME +DRIVER +SCOPE\n[0-9a-f]{12} +host +host +local\n[0-9a-f]{12} +none +null +local\n$`).MatchString(ls) {
		t.Errorf("network ls:\n%s", ls)
	}
	ids := c.must("network", "ls", "-q")
	if again := c.must("network", "ls", "-q"); again != ids || len(strings.Fields(ids)) != 2 {
		t.Errorf("network IDs %q, then %q", ids, again)
	}
	if got := c.must("network", "ls", "-q", "--filter", "driver=null"); got != strings.Fields(ids)[1]+"\n" {
		t.Errorf("network ls --filter driver=null: %q", got)
	}

	c.must("run", "-d", "--name", ctr, "--network", "none", o.Image, "sleep", "300")
	if got := c.must("network", "inspect", "none", "--format", "{{.Name}} {{.Driver}} {{range .Containers}}{{.Name}} {{end}}"); !strings.HasPrefix(got, "none null ") || !strings.Contains(got, " "+ctr+" ") {
		t.Errorf("network inspect none: %q", got)
	}
	if got := c.must("network", "inspect", "host", "--format", "{{.Name}} {{.Driver}} {{.Scope}} {{len .Containers}}"); got != "host host local 0\n" {
		t.Errorf("network inspect host: %q", got)
	}
	// dockerd's predefined networks carry the time it first made them.
	if got := c.must("network", "inspect", "host", "--format", "{{.Created.Year}}"); got == "1\n" {
		t.Errorf("network inspect host: Created is the zero time")
	}
	if got := c.must("network", "inspect", "--format", "{{.Name}}", strings.Fields(ids)[1]); got != "none\n" {
		t.Errorf("network inspect by ID: %q", got)
	}
	if _, errOut, code := c.run("", "network", "inspect", "nosuch"); code != 1 || !strings.Contains(errOut, "network nosuch not found") {
		t.Errorf("network inspect nosuch: exit %d, %q", code, errOut)
	}
	if _, errOut, code := c.run("", "network", "create", ctr); code != 1 || !strings.Contains(errOut, "only the host and none networks") {
		t.Errorf("network create: exit %d, %q", code, errOut)
	}
	if _, errOut, code := c.run("", "network", "rm", "none"); code != 1 || !strings.Contains(errOut, "none is a pre-defined network") {
		t.Errorf("network rm none: exit %d, %q", code, errOut)
	}
	if _, errOut, code := c.run("", "network", "prune", "-f"); code != 0 {
		t.Errorf("network prune: exit %d, %q", code, errOut)
	}
	c.must("rm", "-f", ctr)
}
