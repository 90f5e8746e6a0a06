package main

import (
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
)

func TestPsPrinter(t *testing.T) {
	now := time.Unix(1800000000, 0)
	c := container.Summary{
		ID: strings.Repeat("ab", 32), Names: []string{"/web"}, Image: "shop:1", Command: "sh -c 'sleep 300; echo done'",
		Created: now.Add(-3 * time.Minute).Unix(), State: "running", Status: "Up 3 minutes",
		Labels: map[string]string{"app": "shop", "tier": "web"},
	}
	rows := []psRow{{c: c, trunc: true, now: now}}
	render := func(format string, rows []psRow) string {
		t.Helper()
		p, err := newPsPrinter(format)
		if err != nil {
			t.Fatal(err)
		}
		var b strings.Builder
		if err := p.print(&b, rows); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	want := "CONTAINER ID   IMAGE     COMMAND                  CREATED         STATUS         PORTS     NAMES\n" +
		"abababababab   shop:1    \"sh -c 'sleep 300; e…\"   3 minutes ago   Up 3 minutes             web\n"
	if got := render(psDefaultFormat, rows); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
	if got := render("table {{.Names}}\\t{{.Label \"app\"}}", rows); got != "NAMES     APP\nweb       shop\n" {
		t.Errorf("table template:\n%q", got)
	}
	if got := render("{{.ID}} {{.Labels}}", []psRow{{c: c, now: now}}); got != strings.Repeat("ab", 32)+" app=shop,tier=web\n" {
		t.Errorf("untruncated template: %q", got)
	}
	if got := render("json", rows); !strings.Contains(got, `"Names":"web"`) || !strings.Contains(got, `"RunningFor":"3 minutes ago"`) {
		t.Errorf("json: %s", got)
	}
	if _, err := newPsPrinter("{{.Nope"); err == nil {
		t.Error("a broken template was accepted")
	}
}
