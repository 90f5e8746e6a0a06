// Package shimhelper is all the reconciler-shim helper binary links: the
// shim (runtime/internal/shim) and the container init it starts (package
// runtime/sandbox). Every container start runs two processes of the
// binary they come from, a shim and an init; from this small binary they
// load and initialize a few megabytes instead of the whole reconciler
// (its API client, metrics and build packages), which halves what each
// costs. The runtime runs them from it when cmd/reconciler-shim of the
// same build sits beside the reconciler binary, from itself otherwise.
package shimhelper

import (
	// The shim and the init run from these packages' init functions,
	// selected by argv[0] and the environment (see their docs).
	_ "github.com/reconciler/reconciler/runtime/internal/shim"
)

// Name is the helper's file name, looked for beside the reconciler binary.
const Name = "reconciler-shim"
