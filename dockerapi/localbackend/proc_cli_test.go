package localbackend

import (
	"testing"

	"github.com/reconciler/reconciler/dockerapi/clitest"
)

// TestDockerCLIProcesses runs the docker CLI's rename, top and stats
// suites against the API server over the local engine: real containers,
// real processes and cgroups.
func TestDockerCLIProcesses(t *testing.T) {
	runCLISuites(t, cliSuite{"rename", clitest.Rename}, cliSuite{"top", clitest.Top}, cliSuite{"stats", clitest.Stats})
}
