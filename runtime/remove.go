package runtime

import (
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// removedDirPrefix names the directories of removed containers whose
// contents are still being deleted; New sweeps leftovers (a crash mid-way).
const removedDirPrefix = ".removed-"

// removeDir deletes a removed container's directory (its config.json
// already gone, nothing mounted below it). Deleting the upper and work
// directories takes milliseconds, so the directory is renamed out of the
// way, which is what makes the ID free and the container gone, and its
// contents are deleted in the background (Close waits for that). If the
// rename fails, the directory is deleted in place.
func (r *Runtime) removeDir(dir string) error {
	trash := filepath.Join(r.root, removedDirPrefix+filepath.Base(dir)+"-"+strconv.FormatInt(time.Now().UnixNano(), 36))
	if err := os.Rename(dir, trash); err != nil {
		return os.RemoveAll(dir)
	}
	r.removing.Add(1)
	go func() {
		defer r.removing.Done()
		os.RemoveAll(trash)
	}()
	return nil
}
