package fakebackend

import (
	"context"
	"fmt"
	"io"

	"github.com/moby/moby/api/types/container"

	"github.com/reconciler/reconciler/dockerapi"
)

// Fake containers run programs in memory and have no file system: diff
// reports no change (nothing was ever written), and cp and export, which
// would need files, fail clearly after the usual 404 for an unknown
// container.

// ContainerChanges implements dockerapi.ContainerBackend.
func (b *Backend) ContainerChanges(ctx context.Context, ref string) ([]container.FilesystemChange, error) {
	return nil, b.noFiles(ref)
}

// ContainerStatPath implements dockerapi.ContainerBackend.
func (b *Backend) ContainerStatPath(ctx context.Context, ref, path string) (container.PathStat, error) {
	return container.PathStat{}, b.filesUnsupported(ref, "cp")
}

// ContainerArchivePath implements dockerapi.ContainerBackend.
func (b *Backend) ContainerArchivePath(ctx context.Context, ref, path string) (io.ReadCloser, container.PathStat, error) {
	return nil, container.PathStat{}, b.filesUnsupported(ref, "cp")
}

// ContainerExtractToDir implements dockerapi.ContainerBackend.
func (b *Backend) ContainerExtractToDir(ctx context.Context, ref, path string, content io.Reader, o dockerapi.ExtractOptions) error {
	return b.filesUnsupported(ref, "cp")
}

// ContainerExport implements dockerapi.ContainerBackend.
func (b *Backend) ContainerExport(ctx context.Context, ref string) (io.ReadCloser, error) {
	return nil, b.filesUnsupported(ref, "export")
}

// noFiles is nil for a known container, its lookup error otherwise.
func (b *Backend) noFiles(ref string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, err := b.lookup(ref)
	return err
}

func (b *Backend) filesUnsupported(ref, what string) error {
	if err := b.noFiles(ref); err != nil {
		return err
	}
	return fmt.Errorf("%s: the fake engine's containers have no file system", what)
}
