// Command reconciler-shim is the reconciler runtime's helper: the shim that
// supervises one container and the container's init, in a binary much
// smaller than reconciler itself (see package runtime/shimhelper). The
// runtime starts it, from a sealed in-memory copy; run by hand it only
// says so.
package main

import (
	"fmt"
	"os"

	"github.com/reconciler/reconciler/runtime/shimhelper"
)

func main() {
	fmt.Fprintf(os.Stderr, "%s: the reconciler runtime's container shim and init; it is started by reconciler, not by hand\n", shimhelper.Name)
	os.Exit(2)
}
