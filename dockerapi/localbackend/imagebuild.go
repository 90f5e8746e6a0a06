package localbackend

import (
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	goruntime "runtime"
	"slices"
	"strings"

	"github.com/moby/moby/api/types/events"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/internal/tarsafe"
	"github.com/reconciler/reconciler/layerstore"
	"github.com/reconciler/reconciler/layerstore/archive"
)

// ImageBuild implements dockerapi.ImageBackend: the tar context is
// unpacked (safely: nothing lands outside the scratch folder) and built by
// the engine, RUN steps in real containers.
func (b *Backend) ImageBuild(ctx context.Context, buildContext io.Reader, o dockerapi.BuildOptions, progress io.Writer) (string, error) {
	for _, t := range o.Tags {
		if _, err := layerstore.NormalizeTag(t); err != nil {
			return "", fmt.Errorf("%w: build -t %s: %v", engine.ErrInvalid, t, err)
		}
	}
	dir, release, err := b.store().TempDir("build-")
	if err != nil {
		return "", fmt.Errorf("scratch folder: %w", err)
	}
	defer release()
	r, err := decompress(buildContext)
	if err != nil {
		return "", err
	}
	if _, err := tarsafe.Extract(ctx, dir, r, tarsafe.Options{}); err != nil {
		return "", fmt.Errorf("%w: build context: %v", engine.ErrInvalid, err)
	}
	dockerfile, err := dockerfileIn(dir, o.Dockerfile)
	if err != nil {
		return "", err
	}
	args := map[string]string{}
	for k, v := range o.BuildArgs {
		if v != nil { // nil: "take it from the environment", which the client did not
			args[k] = *v
		}
	}
	src := engine.BuildSource{Context: dir, Dockerfile: dockerfile, Args: args, Target: o.Target, NoCache: o.NoCache}
	img, err := b.e.Build(ctx, src, o.Tags, o.Labels, dropLines(progress, "Successfully built ", "Successfully tagged "))
	if err != nil {
		return "", err
	}
	for _, t := range img.RepoTags {
		if slices.ContainsFunc(o.Tags, func(asked string) bool { n, _ := layerstore.NormalizeTag(asked); return n == t }) {
			b.publishImage(events.ActionTag, img.ID.String(), map[string]string{"name": t})
		}
	}
	return img.ID.String(), nil
}

// dockerfileIn checks that the Dockerfile named by the client is a file of
// the context, symlinks included: an absolute symlink would otherwise make
// the daemon read a file of the host.
func dockerfileIn(dir, name string) (string, error) {
	if name == "" {
		name = "Dockerfile"
	}
	rel, err := tarsafe.CleanName(name)
	if err != nil || rel == "" {
		return "", fmt.Errorf("%w: dockerfile %q must name a file inside the build context", engine.ErrInvalid, name)
	}
	p, err := filepath.EvalSymlinks(filepath.Join(dir, rel))
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%w: Cannot locate specified Dockerfile: %s", engine.ErrInvalid, name)
	}
	if err != nil {
		return "", fmt.Errorf("%w: dockerfile %s: %v", engine.ErrInvalid, name, err)
	}
	root, err := filepath.EvalSymlinks(dir) // the state root's path may hold symlinks too
	if err != nil {
		return "", err
	}
	if inside, err := filepath.Rel(root, p); err != nil || inside == ".." || strings.HasPrefix(inside, "../") {
		return "", fmt.Errorf("%w: dockerfile %s is a symlink leading out of the build context", engine.ErrInvalid, name)
	}
	return rel, nil
}

// decompress undoes the gzip or bzip2 a client may have put on a tar.
func decompress(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(6)
	switch {
	case bytes.HasPrefix(head, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %v", engine.ErrInvalid, err)
		}
		return zr, nil
	case bytes.HasPrefix(head, []byte("BZh")):
		return bzip2.NewReader(br), nil
	case bytes.HasPrefix(head, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		return nil, fmt.Errorf("%w: xz-compressed archives are not supported: send a plain or gzip'd tar", engine.ErrInvalid)
	}
	return br, nil
}

// lineFilter drops writes that are whole lines starting with one of its
// prefixes: lines the server adds to a stream itself. The builder and the
// loader write such lines with one Fprintf each, so a per-write check is
// enough.
type lineFilter struct {
	w        io.Writer
	prefixes []string
}

func dropLines(w io.Writer, prefixes ...string) io.Writer {
	if w == nil {
		return io.Discard
	}
	return lineFilter{w, prefixes}
}

func (l lineFilter) Write(p []byte) (int, error) {
	for _, pre := range l.prefixes {
		if bytes.HasPrefix(p, []byte(pre)) {
			return len(p), nil
		}
	}
	return l.w.Write(p)
}

// importChanges are the instructions `docker import --change` may carry.
var importChanges = []string{"CMD", "ENTRYPOINT", "ENV", "EXPOSE", "LABEL", "USER", "VOLUME", "WORKDIR", "STOPSIGNAL"}

// ImageImport implements dockerapi.ImageBackend: a one-layer image from a
// rootfs tarball. Message becomes the history comment; Changes are applied
// as the Dockerfile instructions they are, by the builder, which leaves the
// bare import as the new image's parent (shown by `images -a`).
func (b *Backend) ImageImport(ctx context.Context, r io.Reader, o dockerapi.ImportOptions, progress io.Writer) (string, error) {
	if err := checkPlatform(o.Platform); err != nil {
		return "", err
	}
	tag := ""
	if o.Repo != "" {
		t, err := layerstore.NormalizeTag(dockerapi.JoinRef(o.Repo, o.Tag))
		if err != nil {
			return "", fmt.Errorf("%w: import %s: %v", engine.ErrInvalid, dockerapi.JoinRef(o.Repo, o.Tag), err)
		}
		tag = t
	}
	for _, ch := range o.Changes {
		if !slices.Contains(importChanges, strings.ToUpper(strings.Fields(ch + " x")[0])) {
			return "", fmt.Errorf("%w: --change %q: only %s can be changed", engine.ErrInvalid, ch, strings.Join(importChanges, ", "))
		}
	}
	plain := o.Message == "" && len(o.Changes) == 0
	first := ""
	if plain {
		first = tag
	}
	img, err := archive.ImportRootfs(ctx, b.store(), r, first)
	if err != nil {
		return "", fmt.Errorf("%w: %v", engine.ErrInvalid, err)
	}
	if o.Message != "" {
		if img, err = b.withComment(ctx, img, o.Message, len(o.Changes) == 0, tag); err != nil {
			return "", err
		}
	}
	if len(o.Changes) > 0 {
		if img, err = b.e.ApplyChanges(ctx, img, o.Changes, tag); err != nil {
			return "", err
		}
	}
	b.publishImage(events.ActionImport, img.ID.String(), map[string]string{"name": img.ID.String()})
	if tag != "" {
		b.publishImage(events.ActionTag, img.ID.String(), map[string]string{"name": tag})
	}
	return img.ID.String(), nil
}

// withComment remakes a fresh import with message as its history comment,
// tagged tag if final, and drops the bare one.
func (b *Backend) withComment(ctx context.Context, img *layerstore.Image, message string, final bool, tag string) (*layerstore.Image, error) {
	cfg := img.Config
	cfg.History = slices.Clone(cfg.History)
	cfg.History[len(cfg.History)-1].Comment = message
	var tags []string
	if final && tag != "" {
		tags = []string{tag}
	}
	out, err := b.store().CreateImage(ctx, cfg, img.Layers, "", tags...)
	if err != nil {
		return nil, fmt.Errorf("import: %w", err)
	}
	if out.ID != img.ID {
		b.store().Remove(img.ID.String(), false) // untagged and unused: cannot be refused
	}
	return out, nil
}

// checkPlatform accepts only this machine's platform ("" means it).
func checkPlatform(p string) error {
	if p == "" {
		return nil
	}
	goos, arch, _ := strings.Cut(p, "/")
	arch, _, _ = strings.Cut(arch, "/")
	if goos != "linux" || (arch != "" && arch != goruntime.GOARCH) {
		return fmt.Errorf("%w: platform %q is not supported here: this engine runs linux/%s", engine.ErrInvalid, p, goruntime.GOARCH)
	}
	return nil
}
