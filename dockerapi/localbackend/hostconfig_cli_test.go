package localbackend

import (
	"testing"

	"github.com/reconciler/reconciler/dockerapi/clitest"
)

// TestDockerCLIHostConfig runs the docker CLI's --read-only, --shm-size,
// --ulimit and --cap-drop suite against the local engine: real
// containers show the limits inside.
func TestDockerCLIHostConfig(t *testing.T) {
	runCLISuites(t, cliSuite{"limits", clitest.HostConfigLimits})
}
