package volumes

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/reconciler/reconciler/internal/atomicfile"
)

const (
	metaFile    = "meta.json"
	dataDir     = "_data"
	stagingDir  = "_copyup"
	tmpPrefix   = atomicfile.TempPrefix // Open removes what a crash left
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
	return atomicfile.WriteFile(path, append(b, '\n'), 0o600)
}
