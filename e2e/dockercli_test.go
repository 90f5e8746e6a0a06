package e2e

import (
	"regexp"
	"strings"
	"testing"
)

var fullID = regexp.MustCompile(`^[0-9a-f]{64}$`)

// TestDockerCLI drives `reconciler daemon` over its unix socket with the
// real docker CLI, command by command, checking what a user sees.
// TestPlainTCP and TestMutualTLS run the same cases over TCP and TLS.
func TestDockerCLI(t *testing.T) {
	requireE2E(t)
	runCLICases(t, startDaemon(t, newRoot(t), daemonOpts{}))
}

// runCLICases builds the test image on d, then runs every docker CLI case
// against it through d.cli.
func runCLICases(t *testing.T, d *daemon) {
	buildBusybox(t, d.cli(t), "bb:e2e")
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, *daemon)
	}{
		{"version-info", cliVersionInfo},
		{"run-detached", cliRunDetached},
		{"run-rm-attached", cliRunRmAttached},
		{"run-attached-large-output", cliRunAttachedLargeOutput},
		{"run-stdin", cliRunStdin},
		{"run-tty", cliRunTty},
		{"exec", cliExec},
		{"lifecycle", cliLifecycle},
		{"isolation-and-policies", cliIsolationAndPolicies},
		{"logs-follow", cliLogsFollow},
		{"images", cliImages},
		{"build-cache", cliBuildCache},
		{"volumes", cliVolumes},
		{"events", cliEvents},
		{"events-live", cliEventsLive},
		{"system-df", cliSystemDf},
		{"housekeeping", cliHousekeeping},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, d) })
	}
}

// psRow is the `docker ps` line whose NAMES column is name.
func psRow(t *testing.T, ps, name string) string {
	t.Helper()
	for _, l := range lines(ps) {
		if f := strings.Fields(l); len(f) > 0 && f[len(f)-1] == name {
			return l
		}
	}
	t.Fatalf("docker ps: no row for %s:\n%s", name, ps)
	return ""
}
