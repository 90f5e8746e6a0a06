package localbackend

import (
	"testing"

	"github.com/reconciler/reconciler/dockerapi/clitest"
)

// TestDockerCLIImagesVolumes runs the docker CLI's image, volume, events
// and df suites against the API server over this backend.
func TestDockerCLIImagesVolumes(t *testing.T) {
	runCLISuites(t, cliSuite{"images", clitest.Images}, cliSuite{"volumes-events-df", clitest.VolumesEventsDF})
}

// TestDockerCLIAnonymousVolumes runs the docker CLI's anonymous volume
// suite (image VOLUME, -v /PATH, rm, rm -v, run --rm) against this backend.
func TestDockerCLIAnonymousVolumes(t *testing.T) {
	runCLISuites(t, cliSuite{"anonymous-volumes", clitest.AnonymousVolumes})
}

// cliSuite is a docker CLI suite of package clitest, run as a subtest.
type cliSuite struct {
	name string
	run  func(*testing.T, clitest.Options)
}

// runCLISuites serves busybox:local (serveBusybox) and runs the suites
// against it; it skips the test when no docker CLI is installed.
func runCLISuites(t *testing.T, suites ...cliSuite) {
	t.Helper()
	cli := clitest.Find()
	if cli == "" {
		t.Skip("needs the docker CLI (/usr/local/bin/docker or docker.io)")
	}
	o := clitest.Options{Host: serveBusybox(t), Image: "busybox:local", CLI: cli}
	for _, s := range suites {
		t.Run(s.name, func(t *testing.T) { s.run(t, o) })
	}
}
