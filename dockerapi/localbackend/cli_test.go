package localbackend

import (
	"testing"

	"github.com/reconciler/reconciler/dockerapi/clitest"
)

// TestDockerCLIImagesVolumes runs the docker CLI's image, volume, events
// and df suites against the API server over this backend.
func TestDockerCLIImagesVolumes(t *testing.T) {
	o := serveBusyboxCLI(t)
	t.Run("images", func(t *testing.T) { clitest.Images(t, o) })
	t.Run("volumes-events-df", func(t *testing.T) { clitest.VolumesEventsDF(t, o) })
}

// serveBusyboxCLI is serveBusybox for the docker CLI suites; it skips
// the test when no docker CLI is installed.
func serveBusyboxCLI(t *testing.T) clitest.Options {
	t.Helper()
	cli := clitest.Find()
	if cli == "" {
		t.Skip("needs the docker CLI (/usr/local/bin/docker or docker.io)")
	}
	return clitest.Options{Host: serveBusybox(t), Image: "busybox:local", CLI: cli}
}
