package sandbox

import (
	"testing"
)

// TestVolatileOverlay: with Volatile the root overlay is mounted volatile
// and marks its work dir; the same layer starts again (this boot), its
// files kept; without Volatile neither happens.
func TestVolatileOverlay(t *testing.T) {
	const rootOptions = `grep ' / / ' /proc/self/mountinfo | grep -o volatile || echo durable`
	cfg, out := testConfig(t, "sh", "-c", rootOptions+`; echo kept > /file`)
	cfg.Volatile = true
	if st := runContainer(t, cfg); st.Code != 0 || out.String() != "volatile\n" {
		t.Fatalf("first run: %+v, output %q, want volatile", st, out)
	}
	if !VolatileMarked(cfg.WorkDir) {
		t.Fatal("a volatile overlay left no mark in its work dir")
	}
	out.Reset()
	cfg.ID, cfg.Args = randomID(), []string{"sh", "-c", rootOptions + `; cat /file`}
	if st := runContainer(t, cfg); st.Code != 0 || out.String() != "volatile\nkept\n" {
		t.Fatalf("second run on the same layer: %+v, output %q", st, out)
	}

	durable, out := testConfig(t, "sh", "-c", rootOptions)
	if st := runContainer(t, durable); st.Code != 0 || out.String() != "durable\n" {
		t.Fatalf("without Volatile: %+v, output %q", st, out)
	}
	if VolatileMarked(durable.WorkDir) {
		t.Fatal("a durable overlay marked its work dir volatile")
	}
}
