package volumes

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

const (
	metaFile    = "meta.json"
	dataDir     = "_data"
	stagingDir  = "_copyup"
	tmpPrefix   = ".tmp-"
	metaVersion = 1
)

// Copy-up states recorded in metadata. Moving is written only once the
// staging copy is complete, so recovery knows it may finish the move.
const (
	copyUpNone   = ""
	copyUpMoving = "moving"
)

// meta is the on-disk record of a volume (ROOT/NAME/meta.json).
type meta struct {
	Version   int               `json:"version"`
	Name      string            `json:"name"`
	Driver    string            `json:"driver"`
	Labels    map[string]string `json:"labels,omitempty"`
	Options   map[string]string `json:"options,omitempty"`
	CreatedAt time.Time         `json:"createdAt"`
	// Users are the IDs of the containers that use the volume, sorted.
	Users []string `json:"users,omitempty"`
	// CopiedUp is set by the first CopyUp, whatever it copied; copy-up
	// never happens again afterwards, even if the volume is emptied.
	CopiedUp bool `json:"copiedUp,omitempty"`
	// CopyUp is copyUpMoving while staged content is being moved in.
	CopyUp string `json:"copyUp,omitempty"`
}

func readMeta(path string) (*meta, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var m meta
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("volume metadata %s is corrupt: %w; move that volume folder aside to recover", path, err)
	}
	return &m, nil
}

func writeMeta(path string, m *meta) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'), 0o600)
}

// writeFileAtomic replaces path with data: a temporary file in the same
// folder is written, synced and renamed over path, and the folder synced,
// so a crash leaves either the old content or the new, never a mix. The
// temporary file's name starts with ".tmp-" so Open can remove leftovers.
func writeFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, tmpPrefix+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Chmod(perm); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename or creation inside dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
