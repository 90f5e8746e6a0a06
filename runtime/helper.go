package runtime

import (
	"debug/buildinfo"
	"os"
	"path/filepath"
	rtdebug "runtime/debug"
	"slices"
	"sync"

	"github.com/reconciler/reconciler/runtime/sandbox"
	"github.com/reconciler/reconciler/runtime/shimhelper"
)

var helperOnce sync.Once

// useHelper makes shims and container inits run from the reconciler-shim
// binary beside this one when it is the same build (see package
// runtime/shimhelper); otherwise they run from this binary.
func useHelper() {
	self, err := os.Executable()
	if err != nil {
		return
	}
	if p := filepath.Join(filepath.Dir(self), shimhelper.Name); sameBuild(p) {
		sandbox.UseHelper(p)
	}
}

// sameBuild reports whether the binary at path was built from the same
// module version, source revision, toolchain and flags as this one: the
// shim's protocol with the runtime is internal to a build.
func sameBuild(path string) bool {
	theirs, err := buildinfo.ReadFile(path)
	if err != nil {
		return false
	}
	ours, ok := rtdebug.ReadBuildInfo()
	if !ok || ours.Main.Path != theirs.Main.Path || ours.Main.Version != theirs.Main.Version || ours.GoVersion != theirs.GoVersion {
		return false
	}
	settings := func(bi *rtdebug.BuildInfo) []string {
		var out []string
		for _, s := range bi.Settings {
			out = append(out, s.Key+"="+s.Value)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(settings(ours), settings(theirs))
}
