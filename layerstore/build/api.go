// Package build builds images from Dockerfiles into a layerstore.Store, the
// way Docker's classic builder does: every instruction is one step that
// makes an intermediate image (a new layer for COPY, ADD, RUN and WORKDIR, a
// new config only for the others), and every step is cached under a key
// made of its parent image, the instruction after variable expansion and
// the digest of its inputs (COPYed files, build args in use). So an
// unchanged rebuild creates nothing, a change reuses every step before it,
// a failed build resumes at the failed step, and Dockerfiles with a common
// prefix share their layers.
//
// Dockerfiles are parsed with BuildKit's parser and instruction packages;
// RUN steps are executed by a Runner supplied by the caller, so this
// package does not depend on the container runtime.
package build

import (
	"context"
	"io"
)

// Runner runs one RUN step: it mounts an overlay of LowerDirs (base first)
// with UpperDir and WorkDir (both empty dirs made by the builder), runs Args
// in namespaces like a container, streams output to Output, and unmounts.
// A non-zero exit is an error carrying the exit code.
type Runner interface {
	Run(ctx context.Context, r RunRequest) error
}

// RunRequest is one RUN step for a Runner.
type RunRequest struct {
	LowerDirs []string
	UpperDir  string
	WorkDir   string
	Args      []string
	Env       []string
	Cwd       string
	User      string
	Network   string // "none" (default) or "host"
	Output    io.Writer
}

// Options configure one build.
type Options struct {
	ContextDir string
	Dockerfile string // relative to ContextDir, or absolute; "" means "Dockerfile"
	Tags       []string
	BuildArgs  map[string]string
	Target     string // stage to stop at; "" builds the last stage
	NoCache    bool
	Labels     map[string]string // added to the final image, as LABEL steps
	// Progress receives "Step 3/7 : COPY . /app", " ---> Using cache",
	// " ---> 1a2b3c4d5e6f", RUN output and the final "Successfully built".
	Progress io.Writer
	Runner   Runner // nil: a RUN step that is not cached fails with a clear error
}
