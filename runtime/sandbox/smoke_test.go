package sandbox

import (
	"strings"
	"testing"
)

func TestPID1AndHostname(t *testing.T) {
	out := sh(t, "echo $$; hostname", func(c *Config) { c.Hostname = "box1" })
	if got := strings.Fields(out); len(got) != 2 || got[0] != "1" || got[1] != "box1" {
		t.Fatalf("want pid 1 and hostname box1, got %q", out)
	}
}
