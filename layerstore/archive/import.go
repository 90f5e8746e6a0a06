package archive

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/reconciler/reconciler/layerstore"
)

// ImportRootfs makes a one-layer image of a plain rootfs tarball (gzip'd
// or not), like `docker import`; tag may be empty.
func ImportRootfs(ctx context.Context, s *layerstore.Store, r io.Reader, tag string) (*layerstore.Image, error) {
	if tag != "" {
		if _, err := layerstore.NormalizeTag(tag); err != nil {
			return nil, err
		}
	}
	l, err := s.AddLayer(ctx, "", r, "")
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	now := time.Now().UTC()
	cfg := ocispec.Image{
		Created:  &now,
		Platform: ocispec.Platform{OS: "linux", Architecture: runtime.GOARCH},
		History:  []ocispec.History{{Created: &now, CreatedBy: "reconciler image import", Comment: "Imported from rootfs tarball"}},
	}
	var tags []string
	if tag != "" {
		tags = append(tags, tag)
	}
	img, err := s.CreateImage(ctx, cfg, []layerstore.Layer{l}, "", tags...)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	return img, nil
}
