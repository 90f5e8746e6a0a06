package main

import (
	"strings"
	"testing"
)

// reconciler rename works on the engine of --root opened in process: each
// command below opens the root anew, so the new name is what the state
// on disk says.
func TestRenameCommand(t *testing.T) {
	cli := ctrCLI{t, containerRoot(t)}
	id := strings.TrimSpace(cli.ok("run", "-d", "--name", "web", "bb:1", "sleep", "300"))
	cli.ok("create", "--name", "db", "bb:1", "true")
	if out := cli.ok("rename", "web", "shop"); out != "" {
		t.Errorf("rename printed %q", out)
	}
	if got := cli.ok("ps", "--format", "{{.ID}} {{.Names}}"); got != id[:12]+" shop\n" {
		t.Errorf("ps after rename: %q", got)
	}
	_, errs, code := cli.run("rename", "db", "shop")
	if code != 1 || !strings.Contains(errs, `Error response from daemon: Conflict. The container name "/shop" is already in use by container "`+id+`"`) {
		t.Errorf("rename to a taken name: exit %d %q", code, errs)
	}
	cli.ok("rename", "db", "web") // the old name is free
	if got := cli.ok("inspect", "-f", "{{.Name}}", "web", id); got != "/web\n/shop\n" {
		t.Errorf("inspect: %q", got)
	}
	if _, errs, code := cli.run("rename", "web"); code != 2 || !strings.Contains(errs, "requires 2 argument") {
		t.Errorf("rename with one argument: exit %d %q", code, errs)
	}
}
