package sandbox

import "github.com/reconciler/reconciler/runtime/sandbox/internal/nsinit"

// CloseInheritedOnExec marks every descriptor above 2 close-on-exec. A
// process that goes on to start containers (a shim) calls it as it
// starts, so that no descriptor it inherited reaches a container's
// program; a helper that execs one (an init, an exec) does the same
// itself, just before.
func CloseInheritedOnExec() error { return nsinit.CloseOnExecFrom3() }
