package localbackend

import (
	"context"
	"io"

	"github.com/moby/moby/api/types/container"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/engine/local"
	"github.com/reconciler/reconciler/runtime"
)

// The container file system endpoints (diff, cp, export), served by the
// runtime's views of a container's root (runtime/rootfs.go).

// ContainerChanges implements dockerapi.ContainerBackend.
func (b *Backend) ContainerChanges(ctx context.Context, ref string) ([]container.FilesystemChange, error) {
	c, err := b.inspect(ref)
	if err != nil {
		return nil, err
	}
	changes, err := b.rt().Changes(ctx, c.ID)
	if err != nil {
		return nil, local.WrapError(err)
	}
	var out []container.FilesystemChange
	for _, ch := range changes {
		out = append(out, container.FilesystemChange{Path: ch.Path, Kind: container.ChangeType(ch.Kind)})
	}
	return out, nil
}

// ContainerStatPath implements dockerapi.ContainerBackend.
func (b *Backend) ContainerStatPath(ctx context.Context, ref, path string) (container.PathStat, error) {
	c, err := b.inspect(ref)
	if err != nil {
		return container.PathStat{}, err
	}
	st, err := b.rt().StatPath(ctx, c.ID, path)
	return pathStat(st), local.WrapError(err)
}

// ContainerArchivePath implements dockerapi.ContainerBackend.
func (b *Backend) ContainerArchivePath(ctx context.Context, ref, path string) (io.ReadCloser, container.PathStat, error) {
	c, err := b.inspect(ref)
	if err != nil {
		return nil, container.PathStat{}, err
	}
	rc, st, err := b.rt().ArchivePath(ctx, c.ID, path)
	return rc, pathStat(st), local.WrapError(err)
}

// ContainerExtractToDir implements dockerapi.ContainerBackend.
func (b *Backend) ContainerExtractToDir(ctx context.Context, ref, path string, content io.Reader, o dockerapi.ExtractOptions) error {
	c, err := b.inspect(ref)
	if err != nil {
		return err
	}
	return local.WrapError(b.rt().ExtractToDir(ctx, c.ID, path, content,
		runtime.ExtractOptions{NoOverwriteDirNonDir: o.NoOverwriteDirNonDir, CopyUIDGID: o.CopyUIDGID}))
}

// ContainerExport implements dockerapi.ContainerBackend.
func (b *Backend) ContainerExport(ctx context.Context, ref string) (io.ReadCloser, error) {
	c, err := b.inspect(ref)
	if err != nil {
		return nil, err
	}
	rc, err := b.rt().Export(ctx, c.ID)
	return rc, local.WrapError(err)
}

func pathStat(st runtime.PathStat) container.PathStat {
	return container.PathStat{Name: st.Name, Size: st.Size, Mode: st.Mode, Mtime: st.Mtime, LinkTarget: st.LinkTarget}
}
