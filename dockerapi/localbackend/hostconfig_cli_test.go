package localbackend

import (
	"testing"

	"github.com/reconciler/reconciler/dockerapi/clitest"
)

// TestDockerCLIHostConfig runs the docker CLI's --read-only, --shm-size,
// --ulimit, --cap-drop and update suites against the local engine: real
// containers show the limits inside, real cgroups change.
func TestDockerCLIHostConfig(t *testing.T) {
	runCLISuites(t, cliSuite{"limits", clitest.HostConfigLimits}, cliSuite{"update", clitest.Update})
}

// TestDockerCLIProcessOptions runs the docker CLI's --init, --log-opt and
// --oom-score-adj suite against the local engine.
func TestDockerCLIProcessOptions(t *testing.T) {
	runCLISuites(t, cliSuite{"process", clitest.ProcessOptions})
}
