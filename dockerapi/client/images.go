package client

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/moby/moby/api/types/build"
	"github.com/moby/moby/api/types/jsonstream"
	moby "github.com/moby/moby/client"

	"github.com/reconciler/reconciler/engine"
)

// Images implements engine.Engine.
func (e *Engine) Images(ctx context.Context, labels map[string]string) ([]engine.Image, error) {
	ctx, cancel := e.short(ctx)
	defer cancel()
	res, err := e.api.ImageList(ctx, moby.ImageListOptions{Filters: labelFilters(labels)})
	if err != nil {
		return nil, e.wrap("list images", err)
	}
	out := make([]engine.Image, 0, len(res.Items))
	for _, s := range res.Items {
		out = append(out, engine.Image{ID: s.ID, RepoTags: s.RepoTags, Labels: s.Labels, Size: s.Size, Created: time.Unix(s.Created, 0)})
	}
	return out, nil
}

// InspectImage implements engine.Engine.
func (e *Engine) InspectImage(ctx context.Context, ref string) (engine.Image, error) {
	ctx, cancel := e.short(ctx)
	defer cancel()
	res, err := e.api.ImageInspect(ctx, ref)
	if err != nil {
		return engine.Image{}, e.wrap("inspect image "+ref, err)
	}
	img := engine.Image{ID: res.ID, RepoTags: res.RepoTags, Size: res.Size}
	img.Created, _ = time.Parse(time.RFC3339Nano, res.Created)
	if res.Config != nil {
		img.Labels = res.Config.Labels
	}
	return img, nil
}

// RemoveImage implements engine.Engine; an image in use is ErrConflict.
func (e *Engine) RemoveImage(ctx context.Context, ref string) error {
	ctx, cancel := e.short(ctx)
	defer cancel()
	_, err := e.api.ImageRemove(ctx, ref, moby.ImageRemoveOptions{})
	return e.wrap("remove image "+ref, err)
}

// EnsureImage implements engine.Engine: it builds (classic builder, the
// context sent as a tar), imports (a docker-save/OCI archive is loaded, a
// plain root filesystem tar imported) or pulls, tags the result src.Tag,
// and gives it src.Labels (for loads and pulls by a one-line build
// "FROM image + LABEL", since the API cannot relabel an image).
func (e *Engine) EnsureImage(ctx context.Context, src engine.ImageSource, progress io.Writer) (engine.Image, error) {
	if progress == nil {
		progress = io.Discard
	}
	var err error
	switch {
	case src.Build != nil:
		err = e.build(ctx, src, progress)
	case src.Import != nil:
		err = e.importFile(ctx, src, progress)
	case src.Pull != nil:
		err = e.pull(ctx, src, progress)
	default:
		return engine.Image{}, fmt.Errorf("%w: image %s has no source: give build, import or pull", engine.ErrInvalid, src.Tag)
	}
	if err != nil {
		return engine.Image{}, err
	}
	return e.InspectImage(ctx, src.Tag)
}

// display renders a JSON message stream (build, pull, load) to progress
// as text: "stream" as it is, "status" lines without their progress bars.
// An error message in the stream is returned.
func display(body io.Reader, progress io.Writer, _ func(jsonstream.Message)) error {
	dec := json.NewDecoder(body)
	for {
		var m jsonstream.Message
		if err := dec.Decode(&m); err == io.EOF {
			return nil
		} else if err != nil {
			return fmt.Errorf("read progress stream: %w", err)
		}
		switch {
		case m.Error != nil:
			return errors.New(m.Error.Message)
		case m.Stream != "":
			io.WriteString(progress, m.Stream)
		case m.Status != "" && m.Progress == nil:
			if m.ID != "" {
				fmt.Fprintf(progress, "%s: %s\n", m.ID, m.Status)
			} else {
				fmt.Fprintln(progress, m.Status)
			}
		}
	}
}

func (e *Engine) build(ctx context.Context, src engine.ImageSource, progress io.Writer) error {
	b := src.Build
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(tarDir(b.Context, pw)) }()
	defer pr.Close()
	args := map[string]*string{}
	for k, v := range b.Args {
		args[k] = &v
	}
	res, err := e.api.ImageBuild(ctx, pr, moby.ImageBuildOptions{
		Tags: []string{src.Tag}, Dockerfile: b.Dockerfile, BuildArgs: args, Target: b.Target, NoCache: b.NoCache,
		Labels: src.Labels, Remove: true, ForceRemove: true, Version: build.BuilderV1,
	})
	if err != nil {
		return e.wrap("build "+src.Tag, err)
	}
	defer res.Body.Close()
	if err := display(res.Body, progress, nil); err != nil {
		return fmt.Errorf("build %s on %s: %w", src.Tag, e.address, err)
	}
	return nil
}

// tarDir writes dir as a tar stream (the build context).
func tarDir(dir string, w io.Writer) error {
	tw := tar.NewWriter(w)
	err := filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil || rel == "." {
			return err
		}
		link := ""
		if fi.Mode()&os.ModeSymlink != 0 {
			if link, err = os.Readlink(path); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return err
		}
		h.Name = filepath.ToSlash(rel)
		if fi.IsDir() {
			h.Name += "/"
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			return err
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("build context %s: %w", dir, err)
	}
	return tw.Close()
}

// isImageArchive tells a docker-save or OCI archive (manifest.json,
// index.json or oci-layout at the top) from a root filesystem tar.
func isImageArchive(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	tr := tar.NewReader(bufio.NewReader(f))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, fmt.Errorf("%s is not a tar archive: %w", path, err)
		}
		switch strings.TrimPrefix(h.Name, "./") {
		case "manifest.json", "index.json", "oci-layout":
			return true, nil
		}
	}
}

func (e *Engine) importFile(ctx context.Context, src engine.ImageSource, progress io.Writer) error {
	path := src.Import.Path
	archive, err := isImageArchive(path)
	if err != nil {
		return fmt.Errorf("%w: import %s: %v", engine.ErrInvalid, src.Tag, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%w: import %s: %v", engine.ErrInvalid, src.Tag, err)
	}
	defer f.Close()
	if !archive {
		var changes []string
		for _, k := range sortedKeys(src.Labels) {
			changes = append(changes, fmt.Sprintf("LABEL %q=%q", k, src.Labels[k]))
		}
		res, err := e.api.ImageImport(ctx, moby.ImageImportSource{Source: f, SourceName: "-"}, src.Tag, moby.ImageImportOptions{Changes: changes})
		if err != nil {
			return e.wrap("import "+path, err)
		}
		defer res.Close()
		fmt.Fprintf(progress, "importing %s as %s\n", path, src.Tag)
		return display(res, io.Discard, nil)
	}
	res, err := e.api.ImageLoad(ctx, f, moby.ImageLoadWithQuiet(true))
	if err != nil {
		return e.wrap("load "+path, err)
	}
	defer res.Close()
	var out bytes.Buffer
	if err := display(res, io.MultiWriter(&out, progress), nil); err != nil {
		return fmt.Errorf("load %s on %s: %w", path, e.address, err)
	}
	loaded := loadedImage(out.String())
	if loaded == "" {
		return fmt.Errorf("load %s on %s: the engine reported no loaded image", path, e.address)
	}
	return e.tagAndLabel(ctx, loaded, src, progress)
}

// loadedImage is the last image named by "Loaded image: X" or "Loaded
// image ID: sha256:..." lines.
func loadedImage(out string) string {
	last := ""
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, "Loaded image ID: "); ok {
			last = strings.TrimSpace(v)
		} else if v, ok := strings.CutPrefix(l, "Loaded image: "); ok {
			last = strings.TrimSpace(v)
		}
	}
	return last
}

func (e *Engine) pull(ctx context.Context, src engine.ImageSource, progress io.Writer) error {
	res, err := e.api.ImagePull(ctx, src.Pull.Ref, moby.ImagePullOptions{})
	if err != nil {
		return e.wrap("pull "+src.Pull.Ref, err)
	}
	defer res.Close()
	if err := display(res, progress, nil); err != nil {
		return fmt.Errorf("pull %s on %s: %w", src.Pull.Ref, e.address, err)
	}
	return e.tagAndLabel(ctx, src.Pull.Ref, src, progress)
}

// tagAndLabel makes image available as src.Tag with src.Labels.
func (e *Engine) tagAndLabel(ctx context.Context, image string, src engine.ImageSource, progress io.Writer) error {
	if len(src.Labels) == 0 {
		if image == src.Tag {
			return nil
		}
		sctx, cancel := e.short(ctx)
		defer cancel()
		_, err := e.api.ImageTag(sctx, moby.ImageTagOptions{Source: image, Target: src.Tag})
		return e.wrap("tag "+image+" as "+src.Tag, err)
	}
	var ctxTar bytes.Buffer
	tw := tar.NewWriter(&ctxTar)
	df := []byte("FROM " + image + "\n")
	tw.WriteHeader(&tar.Header{Name: "Dockerfile", Mode: 0o644, Size: int64(len(df)), ModTime: time.Now()})
	tw.Write(df)
	tw.Close()
	res, err := e.api.ImageBuild(ctx, &ctxTar, moby.ImageBuildOptions{Tags: []string{src.Tag}, Labels: src.Labels, Remove: true, Version: build.BuilderV1})
	if err != nil {
		return e.wrap("label "+src.Tag, err)
	}
	defer res.Body.Close()
	if err := display(res.Body, progress, nil); err != nil {
		return fmt.Errorf("label %s on %s: %w", src.Tag, e.address, err)
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
