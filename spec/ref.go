package spec

import (
	"fmt"
	"strings"

	"github.com/distribution/reference"
)

// checkRef validates an image reference ("name", "name:tag",
// "registry:5000/name@sha256:...") with the distribution grammar docker uses.
func checkRef(ref string) error {
	if _, err := reference.ParseNormalizedNamed(ref); err != nil {
		return fmt.Errorf("%q is not a valid image reference: %v", ref, err)
	}
	return nil
}

// checkTag validates an Image's tag: a reference with a name and a tag,
// never a digest (a digest is what the build produces, not a name for it).
func checkTag(tag string) error {
	named, err := reference.ParseNormalizedNamed(tag)
	if err != nil {
		return fmt.Errorf("%q is not a valid tag: %v; want name:tag like shop-web:1", tag, err)
	}
	if _, ok := named.(reference.Digested); ok {
		return fmt.Errorf("%q has a digest: an Image's tag is a name:tag like shop-web:1", tag)
	}
	return nil
}

// NormalizeRef adds ":latest" to a reference without tag or digest, as
// docker does, keeping the user's spelling otherwise ("web" -> "web:latest").
// Invalid references are returned unchanged.
func NormalizeRef(ref string) string {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil || !reference.IsNameOnly(named) {
		return ref
	}
	return ref + ":latest"
}

// IsExplicitRef reports whether ref names its registry (docker.io/library/
// busybox:1.36, localhost:5000/app:1) or pins a digest. A Container may use
// such a reference without an Image object; a bare name like "web:1" must
// be the tag of a declared Image, so a typo is caught instead of pulled.
func IsExplicitRef(ref string) bool {
	if strings.Contains(ref, "@") {
		return true
	}
	first, _, hasSlash := strings.Cut(ref, "/")
	return hasSlash && (strings.ContainsAny(first, ".:") || first == "localhost")
}
