package clitest

import (
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testutil"
)

// VolumesEventsDF covers volume create/ls/inspect/rm/prune, events (a live
// stream with filters, and --since/--until replay) and system df.
func VolumesEventsDF(t *testing.T, o Options) {
	c := newCLI(t, o)
	suite := unique("vol")
	v1, v2, ctr := suite+"-a", suite+"-b", suite+"-df"
	label := "clitest=" + suite
	c.cleanup("rm", "-f", ctr)
	c.cleanup("volume", "rm", "-f", v1, v2)
	since := time.Now().Add(-time.Second).Format(time.RFC3339Nano)

	// The live stream starts at `since`, so it misses nothing.
	ev := c.background("events", "--since", since, "--filter", "type=volume", "--format", "{{.Type}} {{.Action}} {{.Actor.ID}}")

	if got := c.must("volume", "create", v1, "--label", "a=b", "--label", label); got != v1+"\n" {
		t.Errorf("volume create: %q", got)
	}
	c.must("volume", "create", v2, "--label", label)
	if got := c.must("volume", "ls", "-q", "--filter", "label="+label, "--filter", "label=a=b"); got != v1+"\n" {
		t.Errorf("volume ls --filter: %q", got)
	}
	if got := c.must("volume", "ls"); !strings.Contains(got, "local     "+v1) {
		t.Errorf("volume ls:\n%s", got)
	}
	if got := c.must("volume", "inspect", "-f", "{{.Name}} {{.Driver}} {{index .Labels \"a\"}}", v1); got != v1+" local b\n" {
		t.Errorf("volume inspect: %q", got)
	}
	if got := c.must("volume", "rm", v1); got != v1+"\n" {
		t.Errorf("volume rm: %q", got)
	}
	if _, errOut, code := c.run("", "volume", "inspect", v1); code != 1 || !strings.Contains(strings.ToLower(errOut), "no such volume") {
		t.Errorf("inspect a removed volume: %d %q", code, errOut)
	}
	if got := c.must("volume", "prune", "-f", "--filter", "label="+label); !strings.Contains(got, v2) {
		t.Errorf("volume prune: %q", got)
	}

	want := []string{"volume create " + v1, "volume create " + v2, "volume destroy " + v1, "volume destroy " + v2}
	mine := func() []string {
		var lines []string
		for _, l := range strings.Split(ev.Out.String(), "\n") {
			if strings.Contains(l, suite) {
				lines = append(lines, l)
			}
		}
		return lines
	}
	testutil.Eventually(t, 20*time.Second, "volume events", func() bool { return len(mine()) >= len(want) })
	if got := strings.Join(mine(), "\n"); got != strings.Join(want, "\n") {
		t.Errorf("events:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}

	// A past --until replays and ends.
	out := c.must("events", "--since", since, "--until", time.Now().Format(time.RFC3339Nano), "--filter", "type=volume", "--filter", "event=create", "--format", "{{.Action}} {{.Actor.ID}}")
	if !strings.Contains(out, "create "+v1+"\n") || strings.Contains(out, "destroy") {
		t.Errorf("events --since --until: %q", out)
	}

	c.must("run", "-d", "--name", ctr, o.Image, "sleep", "30")
	df := c.must("system", "df")
	for _, row := range []string{"TYPE", "Images", "Containers", "Local Volumes", "Build Cache"} {
		if !strings.Contains(df, row) {
			t.Errorf("system df: no %q row in\n%s", row, df)
		}
	}
	if !strings.Contains(c.must("system", "df", "-v"), ctr) {
		t.Errorf("system df -v does not list container %s", ctr)
	}
}
