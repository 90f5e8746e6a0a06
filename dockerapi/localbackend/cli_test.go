package localbackend

import (
	"testing"

	"github.com/reconciler/reconciler/dockerapi/clitest"
)

// TestDockerCLIImagesVolumes runs the docker CLI's image, volume, events
// and df suites against the API server over this backend.
func TestDockerCLIImagesVolumes(t *testing.T) {
	cli := clitest.Find()
	if cli == "" {
		t.Skip("needs the docker CLI (/usr/local/bin/docker or docker.io)")
	}
	host := serveBusybox(t)
	o := clitest.Options{Host: host, Image: "busybox:local", CLI: cli}
	t.Run("images", func(t *testing.T) { clitest.Images(t, o) })
	t.Run("volumes-events-df", func(t *testing.T) { clitest.VolumesEventsDF(t, o) })
}
