package localbackend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	dockerspec "github.com/moby/docker-image-spec/specs-go/v1"
	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/image"
	"github.com/moby/moby/api/types/storage"
	digest "github.com/opencontainers/go-digest"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/engine/local"
	"github.com/reconciler/reconciler/layerstore"
)

func (b *Backend) store() *layerstore.Store { return b.e.ImageStore() }

// image resolves a tag, ID or ID prefix, with Docker's 404 text.
func (b *Backend) image(ref string) (*layerstore.Image, error) {
	img, err := b.store().Resolve(ref)
	if errors.Is(err, layerstore.ErrNotFound) {
		return nil, fmt.Errorf("%w: No such image: %s", engine.ErrNotFound, ref)
	}
	if err != nil {
		return nil, local.WrapError(err)
	}
	return img, nil
}

// publishImage sends an image event straight to the API's event bus:
// these operations go to the store, which has no events of its own.
func (b *Backend) publishImage(action events.Action, id string, attrs map[string]string) {
	b.bus.Publish(events.Message{Type: events.ImageEventType, Action: action, Actor: events.Actor{ID: id, Attributes: attrs}})
}

// imageSize is what the image takes unpacked (Docker's Size): the
// uncompressed size of its layers, or the blob size where that is unknown.
func imageSize(img *layerstore.Image) int64 {
	var n int64
	for _, l := range img.Layers {
		n += layerSize(l)
	}
	return n
}

func layerSize(l layerstore.Layer) int64 {
	if l.TarSize > 0 {
		return l.TarSize
	}
	return l.Size
}

// parents is the set of image IDs other images were built on, which
// `docker images` hides unless untagged images are asked for with -a.
func parents(imgs []*layerstore.Image) map[digest.Digest]bool {
	p := map[digest.Digest]bool{}
	for _, img := range imgs {
		if img.Parent != "" {
			p[img.Parent] = true
		}
	}
	return p
}

func imageSummary(img *layerstore.Image) image.Summary {
	tags := slices.Clone(img.RepoTags)
	if tags == nil {
		tags = []string{}
	}
	slices.Sort(tags)
	return image.Summary{
		ID:          img.ID.String(),
		RepoTags:    tags,
		RepoDigests: []string{},
		ParentID:    img.Parent.String(),
		Created:     img.Created.Unix(),
		Size:        imageSize(img),
		SharedSize:  -1,
		Containers:  -1,
		Labels:      img.Config.Config.Labels,
	}
}

// ImageList implements dockerapi.ImageBackend: newest first, intermediate
// images (untagged parents of others) only with All.
func (b *Backend) ImageList(ctx context.Context, o dockerapi.ImageListOptions) ([]image.Summary, error) {
	f := o.Filters
	if err := f.Validate("reference", "dangling", "label", "label!", "before", "since"); err != nil {
		return nil, err
	}
	dangling, err := boolFilter(f, "dangling")
	if err != nil {
		return nil, err
	}
	before, err := b.createdOf(f, "before")
	if err != nil {
		return nil, err
	}
	since, err := b.createdOf(f, "since")
	if err != nil {
		return nil, err
	}
	imgs, err := b.store().List()
	if err != nil {
		return nil, err
	}
	hidden := parents(imgs)
	out := []image.Summary{}
	for _, img := range slices.Backward(imgs) {
		untagged := len(img.RepoTags) == 0
		switch {
		case untagged && hidden[img.ID] && (!o.All || dangling != nil),
			dangling != nil && *dangling != untagged,
			!f.MatchLabels(img.Config.Config.Labels),
			before != nil && !img.Created.Before(*before),
			since != nil && !img.Created.After(*since):
			continue
		}
		s := imageSummary(img)
		if refs := f.Values("reference"); len(refs) > 0 {
			if s.RepoTags = matchReference(refs, s.RepoTags); len(s.RepoTags) == 0 {
				continue
			}
		}
		out = append(out, s)
	}
	return out, nil
}

// boolFilter reads a true/false filter; nil when absent.
func boolFilter(f dockerapi.Filters, key string) (*bool, error) {
	vals := f.Values(key)
	if len(vals) == 0 {
		return nil, nil
	}
	var v bool
	switch strings.ToLower(vals[len(vals)-1]) {
	case "true", "1":
		v = true
	case "false", "0":
	default:
		return nil, fmt.Errorf("%w: invalid filter '%s=%s': use true or false", engine.ErrInvalid, key, vals[len(vals)-1])
	}
	return &v, nil
}

// createdOf is the creation time of the image a before/since filter names.
func (b *Backend) createdOf(f dockerapi.Filters, key string) (*time.Time, error) {
	vals := f.Values(key)
	if len(vals) == 0 {
		return nil, nil
	}
	if len(vals) > 1 {
		return nil, fmt.Errorf("%w: filter %s takes one image, not %d", engine.ErrInvalid, key, len(vals))
	}
	img, err := b.image(vals[0])
	if err != nil {
		return nil, err
	}
	return &img.Created, nil
}

// matchReference keeps the tags matching a pattern, as repo:tag or as the
// repository alone ("mini", "mini:*", "localhost:5000/*/mini"). Patterns
// without wildcards are normalised like references (docker.io/library/x
// is x).
func matchReference(patterns, tags []string) []string {
	var out []string
	for _, t := range tags {
		repo := t[:strings.LastIndex(t, ":")]
		for _, p := range patterns {
			tagPat, repoPat := referencePatterns(p)
			okTag, _ := path.Match(tagPat, t)
			okRepo, _ := path.Match(repoPat, repo)
			if okTag || (repoPat != "" && okRepo) {
				out = append(out, t)
				break
			}
		}
	}
	return out
}

// referencePatterns are the patterns p sets for a whole tag and for a
// repository ("" when p names a tag).
func referencePatterns(p string) (tagPat, repoPat string) {
	if strings.ContainsAny(p, "*?[") {
		return p, p
	}
	fam := dockerapi.FamiliarRef(p)
	if strings.Contains(p[strings.LastIndex(p, "/")+1:], ":") || strings.Contains(p, "@") {
		return fam, ""
	}
	return fam, fam[:strings.LastIndex(fam, ":")]
}

// ImageInspect implements dockerapi.ImageBackend from the stored config,
// read raw so Docker's extensions (Shell, Healthcheck, OnBuild) show too.
func (b *Backend) ImageInspect(ctx context.Context, ref string) (image.InspectResponse, error) {
	img, err := b.image(ref)
	if err != nil {
		return image.InspectResponse{}, err
	}
	raw, err := b.store().RawConfig(img)
	if err != nil {
		return image.InspectResponse{}, err
	}
	var cfg dockerspec.DockerOCIImage
	var extra struct {
		Comment string `json:"comment"`
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return image.InspectResponse{}, fmt.Errorf("image %s: config: %w", img.ID, err)
	}
	json.Unmarshal(raw, &extra) // same bytes: cannot fail now
	if extra.Comment == "" && len(cfg.History) > 0 {
		extra.Comment = cfg.History[len(cfg.History)-1].Comment
	}
	tags := slices.Clone(img.RepoTags)
	if tags == nil {
		tags = []string{}
	}
	layers := make([]string, 0, len(img.Config.RootFS.DiffIDs))
	for _, d := range img.Config.RootFS.DiffIDs {
		layers = append(layers, d.String())
	}
	out := image.InspectResponse{
		ID:           img.ID.String(),
		RepoTags:     tags,
		RepoDigests:  []string{},
		Comment:      extra.Comment,
		Author:       cfg.Author,
		Config:       &cfg.Config,
		Architecture: cfg.Architecture,
		Variant:      cfg.Variant,
		Os:           cfg.OS,
		OsVersion:    cfg.OSVersion,
		Size:         imageSize(img),
		GraphDriver:  b.graphDriver(img),
		RootFS:       image.RootFS{Type: "layers", Layers: layers},
	}
	if !img.Created.IsZero() {
		out.Created = img.Created.UTC().Format(time.RFC3339Nano)
	}
	return out, nil
}

// graphDriver describes the image's layer folders as overlay2 does: the
// top layer as UpperDir, the others (top first) as LowerDir.
func (b *Backend) graphDriver(img *layerstore.Image) *storage.DriverData {
	gd := &storage.DriverData{Name: "overlay2", Data: map[string]string{}}
	dirs, err := b.store().LowerDirs(img)
	if err != nil || len(dirs) == 0 {
		return gd
	}
	slices.Reverse(dirs)
	gd.Data["UpperDir"] = dirs[0]
	if len(dirs) > 1 {
		gd.Data["LowerDir"] = strings.Join(dirs[1:], ":")
	}
	return gd
}

// ImageHistory implements dockerapi.ImageBackend: the config's history,
// newest first. A step that made a layer carries that layer's size; steps
// that end an image of the parent chain carry its ID and tags, the others
// "<missing>", as with Docker's classic builder.
func (b *Backend) ImageHistory(ctx context.Context, ref string) ([]image.HistoryResponseItem, error) {
	img, err := b.image(ref)
	if err != nil {
		return nil, err
	}
	hist := img.Config.History
	if len(hist) == 0 {
		// An image without history (some OCI archives): one line per layer.
		return b.layerHistory(img), nil
	}
	owners := b.historyOwners(img)
	var out []image.HistoryResponseItem
	layer := 0
	for i, h := range hist {
		item := image.HistoryResponseItem{ID: "<missing>", CreatedBy: h.CreatedBy, Comment: h.Comment, Created: img.Created.Unix()}
		if h.Created != nil {
			item.Created = h.Created.Unix()
		}
		if !h.EmptyLayer && layer < len(img.Layers) {
			item.Size = layerSize(img.Layers[layer])
			layer++
		}
		if o, ok := owners[i]; ok {
			item.ID = o.ID.String()
			item.Tags = slices.Clone(o.RepoTags)
		}
		out = append(out, item)
	}
	slices.Reverse(out)
	return out, nil
}

// historyOwners maps the index of an image's last history entry to that
// image, for img and every parent still in the store.
func (b *Backend) historyOwners(img *layerstore.Image) map[int]*layerstore.Image {
	owners := map[int]*layerstore.Image{}
	for cur := img; cur != nil && len(owners) < 1000; {
		n := len(cur.Config.History)
		if _, seen := owners[n-1]; seen || n == 0 {
			break
		}
		owners[n-1] = cur
		if cur.Parent == "" {
			break
		}
		p, err := b.store().Resolve(cur.Parent.String())
		if err != nil {
			break
		}
		cur = p
	}
	return owners
}

// layerHistory is the history of an image whose config has none.
func (b *Backend) layerHistory(img *layerstore.Image) []image.HistoryResponseItem {
	out := make([]image.HistoryResponseItem, 0, len(img.Layers))
	for i := len(img.Layers) - 1; i >= 0; i-- {
		item := image.HistoryResponseItem{ID: "<missing>", Created: img.Created.Unix(), Size: layerSize(img.Layers[i])}
		if i == len(img.Layers)-1 {
			item.ID, item.Tags = img.ID.String(), slices.Clone(img.RepoTags)
		}
		out = append(out, item)
	}
	return out
}

// ImageTag implements dockerapi.ImageBackend.
func (b *Backend) ImageTag(ctx context.Context, source, repo, tag string) error {
	img, err := b.image(source)
	if err != nil {
		return err
	}
	t, err := layerstore.NormalizeTag(dockerapi.JoinRef(repo, tag))
	if err != nil {
		return fmt.Errorf("%w: tag %s: %v", engine.ErrInvalid, dockerapi.JoinRef(repo, tag), err)
	}
	if err := b.store().Tag(img.ID.String(), t); err != nil {
		return local.WrapError(err)
	}
	b.publishImage(events.ActionTag, img.ID.String(), map[string]string{"name": t})
	return nil
}

// ImageRemove implements dockerapi.ImageBackend with the store's rmi rules
// (layerstore.Store.Remove). Untagged parents go with the image whatever
// NoPrune says: the store keeps no image that nothing refers to.
func (b *Backend) ImageRemove(ctx context.Context, ref string, o dockerapi.ImageRemoveOptions) ([]image.DeleteResponse, error) {
	img, err := b.image(ref)
	if err != nil {
		return nil, err
	}
	untagged, deleted, err := b.store().Remove(ref, o.Force)
	if errors.Is(err, layerstore.ErrNotFound) {
		return nil, fmt.Errorf("%w: No such image: %s", engine.ErrNotFound, ref)
	}
	if err != nil {
		return nil, local.WrapError(err)
	}
	out := []image.DeleteResponse{}
	for _, t := range untagged {
		out = append(out, image.DeleteResponse{Untagged: t})
		b.publishImage(events.ActionUnTag, img.ID.String(), map[string]string{"name": t})
	}
	for _, id := range deleted {
		out = append(out, image.DeleteResponse{Deleted: id.String()})
		b.publishImage(events.ActionDelete, id.String(), map[string]string{"name": id.String()})
	}
	return out, nil
}

// ImagesPrune implements dockerapi.ImageBackend: dangling images, or with
// dangling=false every image no container uses (prune -a). Label and until
// filters select images one by one; without them the store prunes at once.
func (b *Backend) ImagesPrune(ctx context.Context, f dockerapi.Filters) (image.PruneReport, error) {
	var rep image.PruneReport
	if err := f.Validate("dangling", "label", "label!", "until"); err != nil {
		return rep, err
	}
	dangling, err := boolFilter(f, "dangling")
	if err != nil {
		return rep, err
	}
	all := dangling != nil && !*dangling
	until, err := untilFilter(f)
	if err != nil {
		return rep, err
	}
	imgs, err := b.store().List()
	if err != nil {
		return rep, err
	}
	var deleted []digest.Digest
	var reclaimed int64
	if len(f["label"]) == 0 && len(f["label!"]) == 0 && until.IsZero() {
		deleted, reclaimed, err = b.store().Prune(all)
	} else {
		deleted, reclaimed, err = b.pruneSelected(imgs, all, func(img *layerstore.Image) bool {
			return f.MatchLabels(img.Config.Config.Labels) && (until.IsZero() || img.Created.Before(until))
		})
	}
	if err != nil {
		return rep, local.WrapError(err)
	}
	tags := map[digest.Digest][]string{}
	for _, img := range imgs {
		tags[img.ID] = img.RepoTags
	}
	for _, id := range deleted {
		for _, t := range tags[id] {
			rep.ImagesDeleted = append(rep.ImagesDeleted, image.DeleteResponse{Untagged: t})
		}
		rep.ImagesDeleted = append(rep.ImagesDeleted, image.DeleteResponse{Deleted: id.String()})
		b.publishImage(events.ActionDelete, id.String(), map[string]string{"name": id.String()})
	}
	rep.SpaceReclaimed = uint64(max(reclaimed, 0))
	b.publishImage(events.ActionPrune, "", map[string]string{"reclaimed": fmt.Sprint(rep.SpaceReclaimed)})
	return rep, nil
}

// pruneSelected removes, newest first, the images keep selects that are
// dangling (or any, with all); images in use or with children are left.
// reclaimed is what the store shrank by.
func (b *Backend) pruneSelected(imgs []*layerstore.Image, all bool, keep func(*layerstore.Image) bool) (deleted []digest.Digest, reclaimed int64, err error) {
	s := b.store()
	before, err := s.Usage()
	if err != nil {
		return nil, 0, err
	}
	hidden := parents(imgs)
	for _, img := range slices.Backward(imgs) {
		if hidden[img.ID] || (!all && len(img.RepoTags) > 0) || !keep(img) {
			continue
		}
		// By ID with force: every tag goes, but an image in use or with
		// children is refused ("cannot be forced"), which prune skips.
		_, del, err := s.Remove(img.ID.String(), true)
		if errors.Is(err, layerstore.ErrInUse) || errors.Is(err, layerstore.ErrConflict) || errors.Is(err, layerstore.ErrNotFound) {
			continue
		}
		if err != nil {
			return deleted, 0, err
		}
		deleted = append(deleted, del...)
	}
	after, err := s.Usage()
	if err != nil {
		return deleted, 0, err
	}
	return deleted, before.LayerBytes + before.BlobBytes - after.LayerBytes - after.BlobBytes, nil
}

// untilFilter reads Docker's until: a duration before now ("24h"), unix
// seconds or a date/time; zero when absent.
func untilFilter(f dockerapi.Filters) (time.Time, error) {
	vals := f.Values("until")
	if len(vals) == 0 {
		return time.Time{}, nil
	}
	v := vals[0]
	if d, err := time.ParseDuration(v); err == nil {
		return time.Now().Add(-d), nil
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		return time.Unix(0, int64(secs*1e9)), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%w: invalid filter 'until=%s': use a duration (24h), unix seconds or a date (2006-01-02T15:04:05)", engine.ErrInvalid, v)
}
