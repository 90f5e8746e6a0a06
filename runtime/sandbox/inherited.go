package sandbox

import "github.com/reconciler/reconciler/runtime/sandbox/internal/nsinit"

// CloseInheritedOnExec marks every descriptor above 2 close-on-exec. A
// process that goes on to start containers (a shim) calls it as it
// starts, so that no descriptor it inherited reaches a container's
// program; a helper that execs one (an init, an exec) does the same
// itself, just before.
func CloseInheritedOnExec() error { return nsinit.CloseOnExecFrom3() }

// DefaultIgnoredSignals sets every signal this process ignores back to
// its default: an ignored signal stays ignored through fork and exec,
// and a container's program must start with none ignored. A shim calls
// it as it starts (after catching what it must not die of); a helper
// that execs a program does the same itself, just before.
func DefaultIgnoredSignals() error { return nsinit.DefaultIgnoredSignals() }
