package layerstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/atomicfile"
	"github.com/reconciler/reconciler/internal/decompress"
	"github.com/reconciler/reconciler/internal/tarsafe"
)

// Layer is one immutable filesystem diff, unpacked once into a directory
// keyed by chain ID.
type Layer struct {
	DiffID    digest.Digest // sha256 of the uncompressed tar
	ChainID   digest.Digest // OCI chain ID (identity of the stack up to this layer)
	Digest    digest.Digest // blob digest as stored (compressed or not)
	MediaType string
	Size      int64 // blob size
	TarSize   int64 // uncompressed tar size (what docker save writes)
}

// layerRecord is layers/CHAIN/layer.json.
type layerRecord struct {
	ChainID      digest.Digest `json:"chainID"`
	DiffID       digest.Digest `json:"diffID"`
	Parent       digest.Digest `json:"parent,omitempty"`
	Digest       digest.Digest `json:"digest"`
	MediaType    string        `json:"mediaType"`
	Size         int64         `json:"size"`
	TarSize      int64         `json:"tarSize"`
	UnpackedSize int64         `json:"unpackedSize"` // bytes of regular files in diff/
	Created      time.Time     `json:"created"`
}

// ChainID is the OCI chain ID of diffID on top of the chain parent.
func ChainID(parent, diffID digest.Digest) digest.Digest {
	if parent == "" {
		return diffID
	}
	return digest.FromString(parent.String() + " " + diffID.String())
}

func (s *Store) layerPath(chain digest.Digest, rel ...string) string {
	return s.path(append([]string{"layers", chain.Encoded()}, rel...)...)
}

// LayerDir is the unpacked directory of a chain ID (read-only by
// convention: an overlay lowerdir).
func (s *Store) LayerDir(chainID digest.Digest) (string, error) {
	if err := chainID.Validate(); err != nil {
		return "", fmt.Errorf("layer %q: %w", chainID, err)
	}
	p := s.layerPath(chainID, "diff")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("layer %s: %w", chainID, ErrNotFound)
	}
	return p, nil
}

func (s *Store) readLayer(chain digest.Digest) (*layerRecord, error) {
	b, err := os.ReadFile(s.layerPath(chain, "layer.json"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("layer %s: %w", chain, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	var r layerRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("layer %s: corrupt layer.json: %w", chain, err)
	}
	return &r, nil
}

// countWriter counts bytes written through it.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

// AddLayer stores a layer tar (gzip, zstd or plain, detected) on top of the chain
// parent ("" for a base layer), verifies expectDiffID if non-empty and
// unpacks it safely, whiteouts in overlayfs form, into its own directory.
// Idempotent: an existing chain ID is reused, not rewritten (with a known
// expectDiffID the stream is only hashed, not unpacked).
func (s *Store) AddLayer(ctx context.Context, parent digest.Digest, r io.Reader, expectDiffID digest.Digest) (Layer, error) {
	if parent != "" {
		if _, err := s.LayerDir(parent); err != nil {
			return Layer{}, fmt.Errorf("add layer: parent %w", err)
		}
	}
	known := false
	if expectDiffID != "" {
		if err := expectDiffID.Validate(); err != nil {
			return Layer{}, fmt.Errorf("add layer: expected diff ID: %w", err)
		}
		_, err := s.LayerDir(ChainID(parent, expectDiffID))
		known = err == nil
	}
	tmp, release, err := s.TempDir("layer-")
	if err != nil {
		return Layer{}, err
	}
	defer release()

	blobF, err := os.Create(filepath.Join(tmp, "blob"))
	if err != nil {
		return Layer{}, err
	}
	defer blobF.Close()
	blobD := digest.SHA256.Digester()
	var blobN countWriter
	dr, kind, err := decompress.Reader(io.TeeReader(r, io.MultiWriter(blobF, blobD.Hash(), &blobN)))
	if err != nil {
		return Layer{}, fmt.Errorf("add layer: %w", err)
	}
	defer dr.Close()
	diffD := digest.SHA256.Digester()
	var tarN countWriter
	tr := io.TeeReader(dr, io.MultiWriter(diffD.Hash(), &tarN))

	diffDir := filepath.Join(tmp, "diff")
	if err := os.Mkdir(diffDir, 0o755); err != nil {
		return Layer{}, err
	}
	var stats tarsafe.Stats
	if !known {
		stats, err = tarsafe.Extract(ctx, diffDir, tr, tarsafe.Options{OverlayWhiteouts: true})
		if err != nil {
			return Layer{}, fmt.Errorf("add layer: %w", err)
		}
	}
	// The rest of the stream (tar padding, compression trailer) still counts.
	if _, err := io.Copy(io.Discard, tr); err != nil {
		return Layer{}, fmt.Errorf("add layer: read: %w", err)
	}
	diffID := diffD.Digest()
	if expectDiffID != "" && diffID != expectDiffID {
		return Layer{}, fmt.Errorf("add layer: diff ID mismatch: the archive's layer has %s, the image config says %s (corrupt or tampered layer)", diffID, expectDiffID)
	}
	chain := ChainID(parent, diffID)
	mt := map[decompress.Kind]string{
		decompress.None: ocispec.MediaTypeImageLayer,
		decompress.Gzip: ocispec.MediaTypeImageLayerGzip,
		decompress.Zstd: ocispec.MediaTypeImageLayerZstd,
	}[kind]
	layer := Layer{DiffID: diffID, ChainID: chain, Digest: blobD.Digest(), MediaType: mt, Size: blobN.n, TarSize: tarN.n}
	if err := blobF.Sync(); err != nil {
		return Layer{}, err
	}
	if err := blobF.Close(); err != nil {
		return Layer{}, err
	}
	if !known {
		if err := syncFS(diffDir); err != nil {
			return Layer{}, err
		}
	}

	unlock, err := s.lock()
	if err != nil {
		return Layer{}, err
	}
	defer unlock()
	if _, err := os.Stat(s.blobPath(layer.Digest)); os.IsNotExist(err) {
		if err := os.Rename(filepath.Join(tmp, "blob"), s.blobPath(layer.Digest)); err != nil {
			return Layer{}, fmt.Errorf("add layer: store blob: %w", err)
		}
		if err := atomicfile.SyncDir(filepath.Dir(s.blobPath(layer.Digest))); err != nil {
			return Layer{}, err
		}
	}
	s.pending[chain] = time.Now()
	s.pending[layer.Digest] = time.Now()
	if _, err := os.Stat(s.layerPath(chain)); err == nil {
		return layer, nil
	}
	if known {
		return Layer{}, fmt.Errorf("add layer %s: removed while being added; retry", chain)
	}
	if err := os.Remove(filepath.Join(tmp, "blob")); err != nil && !os.IsNotExist(err) {
		return Layer{}, err
	}
	rec := layerRecord{ChainID: chain, DiffID: diffID, Parent: parent, Digest: layer.Digest, MediaType: mt,
		Size: layer.Size, TarSize: layer.TarSize, UnpackedSize: stats.Bytes, Created: time.Now().UTC()}
	b, _ := json.Marshal(rec)
	if err := os.WriteFile(filepath.Join(tmp, "layer.json"), b, 0o600); err != nil {
		return Layer{}, err
	}
	if err := syncFS(tmp); err != nil {
		return Layer{}, err
	}
	if err := os.Rename(tmp, s.layerPath(chain)); err != nil {
		return Layer{}, fmt.Errorf("add layer %s: %w", chain, err)
	}
	return layer, atomicfile.SyncDir(s.path("layers"))
}

// syncFS flushes the filesystem holding dir: one syscall for the many
// files of an unpacked layer.
func syncFS(dir string) error {
	fd, err := unix.Open(dir, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.Syncfs(fd); err != nil {
		return fmt.Errorf("syncfs %s: %w", dir, err)
	}
	return nil
}
