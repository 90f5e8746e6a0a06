package layerstore

import (
	"fmt"

	"github.com/distribution/reference"
)

// NormalizeTag turns a user's image reference into the form tags are kept
// in, Docker's familiar form: "busybox" and "docker.io/library/busybox"
// are "busybox:latest", "localhost:5000/app" is "localhost:5000/app:latest".
// Digest references cannot be tags.
func NormalizeTag(ref string) (string, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return "", fmt.Errorf("invalid reference %q: %w", ref, err)
	}
	if _, ok := named.(reference.Digested); ok {
		return "", fmt.Errorf("invalid tag %q: a digest reference cannot name a local tag", ref)
	}
	return reference.FamiliarString(reference.TagNameOnly(named)), nil
}
