package fakebackend

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/storage"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/engine"
)

// img is an image record; exported fields travel in save/load archives.
type img struct {
	ID      string
	Tags    []string
	Created time.Time
	Size    int64
	Parent  string
	Comment string
	Author  string
	Cmd     []string
	Env     []string
	Labels  map[string]string
	History []string // created-by lines, oldest first
}

// archiveFile is the single entry of the fake's image archives.
const archiveFile = "fake-images.json"

// registry is shared by every fake backend in the process, standing in for
// a registry that push writes to and pull reads from.
var registry = struct {
	sync.Mutex
	images map[string]img
}{images: map[string]img{}}

// resolveImage finds an image by tag, full ID or unique ID prefix; b.mu is held.
func (b *Backend) resolveImage(ref string) (*img, error) {
	if i, ok := b.images[ref]; ok {
		return i, nil
	}
	fam := dockerapi.FamiliarRef(ref)
	for _, i := range b.images {
		for _, t := range i.Tags {
			if t == fam {
				return i, nil
			}
		}
	}
	hexRef := strings.TrimPrefix(ref, "sha256:")
	if len(hexRef) >= 4 && strings.Trim(hexRef, "0123456789abcdef") == "" {
		var found *img
		for id, i := range b.images {
			if strings.HasPrefix(strings.TrimPrefix(id, "sha256:"), hexRef) {
				if found != nil {
					return nil, fmt.Errorf("%w: image ID prefix %s is ambiguous", engine.ErrInvalid, ref)
				}
				found = i
			}
		}
		if found != nil {
			return found, nil
		}
	}
	return nil, notFound("image", ref)
}

// addImage stores i and moves its tags off other images; b.mu is held.
func (b *Backend) addImage(i *img) {
	for _, t := range i.Tags {
		b.untag(t)
	}
	if old, ok := b.images[i.ID]; ok {
		old.Tags = append(old.Tags, i.Tags...)
		return
	}
	b.images[i.ID] = i
}

func (b *Backend) untag(tag string) {
	for _, o := range b.images {
		for k, t := range o.Tags {
			if t == tag {
				o.Tags = append(o.Tags[:k:k], o.Tags[k+1:]...)
				b.publish(events.ImageEventType, events.ActionUnTag, o.ID, map[string]string{"name": tag})
				return
			}
		}
	}
}

func (b *Backend) containersUsing(id string) int {
	n := 0
	for _, c := range b.containers {
		if c.imageID == id {
			n++
		}
	}
	return n
}

func (b *Backend) summary(i *img) image.Summary {
	tags := append([]string{}, i.Tags...)
	sort.Strings(tags)
	return image.Summary{ID: i.ID, RepoTags: tags, RepoDigests: []string{}, ParentID: i.Parent, Created: i.Created.Unix(),
		Size: i.Size, SharedSize: -1, Containers: int64(b.containersUsing(i.ID)), Labels: i.Labels}
}

// ImageList implements dockerapi.ImageBackend.
func (b *Backend) ImageList(ctx context.Context, o dockerapi.ImageListOptions) ([]image.Summary, error) {
	if err := o.Filters.Validate("reference", "label", "label!", "dangling"); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []image.Summary
	for _, id := range sortedKeys(b.images) {
		i := b.images[id]
		if !o.Filters.MatchLabels(i.Labels) {
			continue
		}
		if d := o.Filters.Values("dangling"); len(d) > 0 && (d[0] == "true") != (len(i.Tags) == 0) {
			continue
		}
		sum := b.summary(i)
		if refs := o.Filters.Values("reference"); len(refs) > 0 {
			if sum.RepoTags = matchReference(refs, i.Tags); len(sum.RepoTags) == 0 {
				continue
			}
		}
		out = append(out, sum)
	}
	return out, nil
}

// matchReference returns the tags matching any pattern (as repo:tag or
// as repo alone), sorted.
func matchReference(patterns, tags []string) []string {
	var out []string
	for _, t := range tags {
		repo := t[:strings.LastIndex(t, ":")]
		for _, p := range patterns {
			okTag, _ := path.Match(p, t)
			okRepo, _ := path.Match(p, repo)
			if okTag || okRepo {
				out = append(out, t)
				break
			}
		}
	}
	sort.Strings(out)
	return out
}

// ImageInspect implements dockerapi.ImageBackend.
func (b *Backend) ImageInspect(ctx context.Context, ref string) (image.InspectResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	i, err := b.resolveImage(ref)
	if err != nil {
		return image.InspectResponse{}, err
	}
	return image.InspectResponse{
		ID: i.ID, RepoTags: append([]string{}, i.Tags...), RepoDigests: []string{}, Comment: i.Comment, Author: i.Author,
		Created: i.Created.Format(time.RFC3339Nano), Architecture: "amd64", Os: "linux", Size: i.Size,
		Config:      &dockerspec.DockerOCIImageConfig{ImageConfig: ocispec.ImageConfig{Cmd: i.Cmd, Env: i.Env, Labels: i.Labels}},
		RootFS:      image.RootFS{Type: "layers", Layers: []string{digestOf(i.ID, "layer")}},
		GraphDriver: &storage.DriverData{Name: "fake", Data: map[string]string{}},
	}, nil
}

// ImageHistory implements dockerapi.ImageBackend.
func (b *Backend) ImageHistory(ctx context.Context, ref string) ([]image.HistoryResponseItem, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	i, err := b.resolveImage(ref)
	if err != nil {
		return nil, err
	}
	var out []image.HistoryResponseItem
	for k := len(i.History) - 1; k >= 0; k-- {
		h := image.HistoryResponseItem{ID: "<missing>", Created: i.Created.Unix(), CreatedBy: i.History[k], Tags: nil}
		if k == len(i.History)-1 {
			h.ID, h.Tags, h.Size = i.ID, i.Tags, i.Size
		}
		out = append(out, h)
	}
	return out, nil
}

// ImageTag implements dockerapi.ImageBackend.
func (b *Backend) ImageTag(ctx context.Context, source, repo, tag string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	i, err := b.resolveImage(source)
	if err != nil {
		return err
	}
	t := dockerapi.JoinRef(repo, tag)
	b.untag(t)
	i.Tags = append(i.Tags, t)
	b.publish(events.ImageEventType, events.ActionTag, i.ID, map[string]string{"name": t})
	return nil
}

// ImageRemove implements dockerapi.ImageBackend: a tag is removed, and the
// image with it once untagged and unused.
func (b *Backend) ImageRemove(ctx context.Context, ref string, o dockerapi.ImageRemoveOptions) ([]image.DeleteResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	i, err := b.resolveImage(ref)
	if err != nil {
		return nil, err
	}
	if n := b.containersUsing(i.ID); n > 0 && !o.Force {
		return nil, fmt.Errorf("%w: unable to remove repository reference %q (must force) - %d container(s) use image %s", engine.ErrConflict, ref, n, i.ID[7:19])
	}
	var out []image.DeleteResponse
	fam := dockerapi.FamiliarRef(ref)
	byTag := false
	for _, t := range i.Tags {
		if t == fam {
			byTag = true
		}
	}
	if byTag {
		b.untag(fam)
		out = append(out, image.DeleteResponse{Untagged: fam})
		if len(i.Tags) > 0 {
			return out, nil
		}
	} else {
		if len(i.Tags) > 1 && !o.Force {
			return nil, fmt.Errorf("%w: unable to delete %s (must be forced) - image is referenced in multiple repositories", engine.ErrConflict, i.ID[7:19])
		}
		for _, t := range append([]string{}, i.Tags...) {
			b.untag(t)
			out = append(out, image.DeleteResponse{Untagged: t})
		}
	}
	delete(b.images, i.ID)
	b.publish(events.ImageEventType, events.ActionDelete, i.ID, map[string]string{"name": i.ID})
	return append(out, image.DeleteResponse{Deleted: i.ID}), nil
}

// ImagesPrune implements dockerapi.ImageBackend.
func (b *Backend) ImagesPrune(ctx context.Context, f dockerapi.Filters) (image.PruneReport, error) {
	if err := f.Validate("dangling", "label", "label!", "until"); err != nil {
		return image.PruneReport{}, err
	}
	danglingOnly := f.Match("dangling", "true") || f.Match("dangling", "1")
	b.mu.Lock()
	defer b.mu.Unlock()
	var rep image.PruneReport
	for _, id := range sortedKeys(b.images) {
		i := b.images[id]
		if b.containersUsing(id) > 0 || (danglingOnly && len(i.Tags) > 0) || !f.MatchLabels(i.Labels) {
			continue
		}
		for _, t := range i.Tags {
			rep.ImagesDeleted = append(rep.ImagesDeleted, image.DeleteResponse{Untagged: t})
		}
		delete(b.images, id)
		rep.ImagesDeleted = append(rep.ImagesDeleted, image.DeleteResponse{Deleted: id})
		rep.SpaceReclaimed += uint64(i.Size)
	}
	return rep, nil
}

// ImageBuild implements dockerapi.ImageBackend: the Dockerfile is read
// from the context; FROM, CMD, ENV and LABEL are honoured, other
// instructions only recorded.
func (b *Backend) ImageBuild(ctx context.Context, buildContext io.Reader, o dockerapi.BuildOptions, progress io.Writer) (string, error) {
	name := o.Dockerfile
	if name == "" {
		name = "Dockerfile"
	}
	files, err := readTar(buildContext)
	if err != nil {
		return "", fmt.Errorf("%w: read build context: %v", engine.ErrInvalid, err)
	}
	df, ok := files[path.Clean(name)]
	if !ok {
		return "", fmt.Errorf("%w: Cannot locate specified Dockerfile: %s", engine.ErrInvalid, name)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(df))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			lines = append(lines, l)
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var cur img
	for n, l := range lines {
		fmt.Fprintf(progress, "Step %d/%d : %s\n", n+1, len(lines), l)
		instr, arg, _ := strings.Cut(l, " ")
		switch strings.ToUpper(instr) {
		case "FROM":
			if arg != "scratch" {
				base, err := b.resolveImage(arg)
				if err != nil {
					return "", err
				}
				cur = *base
				cur.Parent = base.ID
			}
		case "CMD":
			cur.Cmd = parseCmd(arg)
		case "ENV":
			cur.Env = append(cur.Env, strings.Replace(arg, " ", "=", 1))
		case "LABEL":
			k, v, _ := strings.Cut(arg, "=")
			cur.Labels = merge(cur.Labels, map[string]string{k: strings.Trim(v, `"`)})
		}
		cur.History = append(append([]string{}, cur.History...), l)
		cur.ID = digestOf(cur.ID, l)
		fmt.Fprintf(progress, " ---> %s\n", cur.ID[7:19])
	}
	cur.Labels = merge(cur.Labels, o.Labels)
	cur.Created, cur.Size = now(), cur.Size+int64(len(df))
	cur.Tags = nil
	for _, t := range o.Tags {
		cur.Tags = append(cur.Tags, dockerapi.FamiliarRef(t))
	}
	i := cur
	b.addImage(&i)
	return i.ID, nil
}

// applyChanges applies the Dockerfile instructions of import and commit
// (CMD, ENV and LABEL; others are ignored by the fake).
func applyChanges(i *img, changes []string) {
	for _, ch := range changes {
		instr, arg, _ := strings.Cut(strings.TrimSpace(ch), " ")
		switch strings.ToUpper(instr) {
		case "CMD":
			i.Cmd = parseCmd(arg)
		case "ENV":
			i.Env = append(i.Env, strings.Replace(arg, " ", "=", 1))
		case "LABEL":
			k, v, _ := strings.Cut(arg, "=")
			i.Labels = merge(i.Labels, map[string]string{unquote(k): unquote(v)})
		}
	}
}

func unquote(s string) string {
	if u, err := strconv.Unquote(s); err == nil {
		return u
	}
	return s
}

func parseCmd(arg string) []string {
	var list []string
	if json.Unmarshal([]byte(arg), &list) == nil {
		return list
	}
	return []string{"sh", "-c", arg}
}

func merge(a, b map[string]string) map[string]string {
	if len(b) == 0 {
		return a
	}
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func readTar(r io.Reader) (map[string][]byte, error) {
	files := map[string][]byte{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files, nil
		}
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(tr)
		if err != nil {
			return nil, err
		}
		files[path.Clean(h.Name)] = b
	}
}

// ImageSave implements dockerapi.ImageBackend.
func (b *Backend) ImageSave(ctx context.Context, refs []string, w io.Writer) error {
	b.mu.Lock()
	var list []img
	for _, r := range refs {
		i, err := b.resolveImage(r)
		if err != nil {
			b.mu.Unlock()
			return err
		}
		c := *i
		if fam := dockerapi.FamiliarRef(r); r != i.ID && !strings.HasPrefix(r, "sha256:") {
			c.Tags = []string{fam}
		}
		list = append(list, c)
	}
	b.mu.Unlock()
	data, _ := json.Marshal(list)
	tw := tar.NewWriter(w)
	if err := tw.WriteHeader(&tar.Header{Name: archiveFile, Mode: 0o644, Size: int64(len(data)), ModTime: now()}); err != nil {
		return err
	}
	if _, err := tw.Write(data); err != nil {
		return err
	}
	return tw.Close()
}

// ImageLoad implements dockerapi.ImageBackend.
func (b *Backend) ImageLoad(ctx context.Context, r io.Reader, progress io.Writer) ([]string, error) {
	files, err := readTar(r)
	if err != nil {
		return nil, fmt.Errorf("%w: read image archive: %v", engine.ErrInvalid, err)
	}
	var list []img
	if err := json.Unmarshal(files[archiveFile], &list); err != nil {
		return nil, fmt.Errorf("%w: not an archive of the fake engine (no %s)", engine.ErrInvalid, archiveFile)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var loaded []string
	for _, i := range list {
		fmt.Fprintf(progress, "Loading layer %s\n", i.ID[7:19])
		c := i
		b.addImage(&c)
		b.publish(events.ImageEventType, events.ActionLoad, c.ID, map[string]string{"name": c.ID})
		if len(i.Tags) == 0 {
			loaded = append(loaded, i.ID)
		}
		loaded = append(loaded, i.Tags...)
	}
	return loaded, nil
}

// ImageImport implements dockerapi.ImageBackend.
func (b *Backend) ImageImport(ctx context.Context, r io.Reader, o dockerapi.ImportOptions, progress io.Writer) (string, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return "", err
	}
	i := &img{ID: digestOf(string(data), o.Message), Created: now(), Size: int64(len(data)), Comment: o.Message,
		History: []string{"imported from -"}}
	applyChanges(i, o.Changes)
	if o.Repo != "" {
		i.Tags = []string{dockerapi.JoinRef(o.Repo, o.Tag)}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.addImage(i)
	b.publish(events.ImageEventType, events.ActionImport, i.ID, map[string]string{"name": i.ID})
	return i.ID, nil
}

// ImagePull implements dockerapi.ImageBackend from the in-process registry.
func (b *Backend) ImagePull(ctx context.Context, ref string, o dockerapi.PullOptions, progress io.Writer) error {
	fam := dockerapi.FamiliarRef(ref)
	b.mu.Lock()
	defer b.mu.Unlock()
	registry.Lock()
	i, ok := registry.images[fam]
	registry.Unlock()
	if !ok {
		return fmt.Errorf("pull access denied for %s, repository does not exist or may require 'docker login'", fam)
	}
	fmt.Fprintf(progress, "%s: Pulling from fake registry\nDigest: %s\nStatus: Downloaded newer image for %s\n", fam, i.ID, fam)
	c := i
	c.Tags = []string{fam}
	b.addImage(&c)
	b.publish(events.ImageEventType, events.ActionPull, fam, map[string]string{"name": fam})
	return nil
}

// ImagePush implements dockerapi.ImageBackend into the in-process registry.
func (b *Backend) ImagePush(ctx context.Context, ref string, o dockerapi.PushOptions, progress io.Writer) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	i, err := b.resolveImage(ref)
	if err != nil {
		return err
	}
	fam := dockerapi.FamiliarRef(ref)
	registry.Lock()
	registry.images[fam] = *i
	registry.Unlock()
	fmt.Fprintf(progress, "The push refers to repository [%s]\n%s: digest: %s\n", fam, fam, i.ID)
	b.publish(events.ImageEventType, events.ActionPush, fam, map[string]string{"name": fam})
	return nil
}
