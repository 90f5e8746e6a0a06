// Package dockerignore finds and reads the ignore file of a Docker build,
// as BuildKit does: DOCKERFILE.dockerignore next to the Dockerfile wins
// over the context's .dockerignore. The builder, the CLI that sends a
// context and the controller that hashes one must agree on it.
package dockerignore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/moby/patternmatcher/ignorefile"
)

// Read returns the patterns of the ignore file that applies to a build of
// dockerfile ("" is "Dockerfile"; relative to contextDir unless absolute)
// in contextDir, and that file's path: nil and "" when there is none.
func Read(contextDir, dockerfile string) (patterns []string, file string, err error) {
	if dockerfile == "" {
		dockerfile = "Dockerfile"
	}
	if !filepath.IsAbs(dockerfile) {
		dockerfile = filepath.Join(contextDir, dockerfile)
	}
	for _, name := range []string{dockerfile + ".dockerignore", filepath.Join(contextDir, ".dockerignore")} {
		f, err := os.Open(name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		patterns, err := ignorefile.ReadAll(f)
		f.Close()
		if err != nil {
			return nil, "", fmt.Errorf("%s: %w", name, err)
		}
		return patterns, name, nil
	}
	return nil, "", nil
}
