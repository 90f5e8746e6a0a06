// Package archive moves images between a layerstore.Store and archives:
// `docker save` archives (both the classic layout and the OCI-flavoured one
// docker 25+ writes), OCI image layout tarballs, and plain rootfs tarballs.
package archive

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"

	digest "github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/reconciler/reconciler/layerstore"
)

// dockerManifest is one entry of a docker-save manifest.json.
type dockerManifest struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// Load imports every image of a docker-save archive or an OCI layout
// tarball, or, if r is neither, imports r as a plain rootfs tarball (one
// layer, untagged). gzip'd input is accepted. Progress lines go to progress
// (nil: none), in docker load's words.
func Load(ctx context.Context, s *layerstore.Store, r io.Reader, progress io.Writer) ([]*layerstore.Image, error) {
	if progress == nil {
		progress = io.Discard
	}
	sp, err := spool(s, r)
	if err != nil {
		return nil, fmt.Errorf("load: %w", err)
	}
	defer sp.Close()
	switch {
	case sp.has("manifest.json"):
		return loadDocker(ctx, s, sp, progress)
	case sp.has(ocispec.ImageIndexFile) && sp.has(ocispec.ImageLayoutFile):
		return loadOCI(ctx, s, sp, progress)
	case len(sp.files) == 0 && len(sp.symlinks) == 0:
		return nil, errors.New("load: the archive is empty")
	}
	img, err := ImportRootfs(ctx, s, sp.whole(), "")
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(progress, "Loaded image ID: %s\n", img.ID)
	return []*layerstore.Image{img}, nil
}

func loadDocker(ctx context.Context, s *layerstore.Store, sp *spooled, progress io.Writer) ([]*layerstore.Image, error) {
	b, err := sp.read("manifest.json")
	if err != nil {
		return nil, err
	}
	var items []dockerManifest
	if err := json.Unmarshal(b, &items); err != nil {
		return nil, fmt.Errorf("load: manifest.json: %w", err)
	}
	var out []*layerstore.Image
	for i, it := range items {
		raw, err := sp.read(it.Config)
		if err != nil {
			return nil, fmt.Errorf("load: manifest.json entry %d: config: %w", i, err)
		}
		open := func(j int) (io.Reader, error) {
			if j >= len(it.Layers) {
				return nil, fmt.Errorf("manifest.json entry %d lists %d layers, its config more", i, len(it.Layers))
			}
			return sp.open(it.Layers[j])
		}
		img, err := addImage(ctx, s, raw, open, len(it.Layers), nil, layerstore.ImageOptions{Tags: it.RepoTags}, progress)
		if err != nil {
			return nil, fmt.Errorf("load: manifest.json entry %d (%s): %w", i, strings.Join(it.RepoTags, ", "), err)
		}
		out = append(out, img)
	}
	return out, nil
}

// addImage adds the layers of one image (open(i) reads layer i) and then
// the image itself. wantBlobs, if set, are the digests the layers must
// have as stored (OCI layouts name them).
func addImage(ctx context.Context, s *layerstore.Store, rawConfig []byte, open func(int) (io.Reader, error), nLayers int, wantBlobs []digest.Digest, opts layerstore.ImageOptions, progress io.Writer) (*layerstore.Image, error) {
	var cfg ocispec.Image
	if err := json.Unmarshal(rawConfig, &cfg); err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	if len(cfg.RootFS.DiffIDs) != nLayers {
		return nil, fmt.Errorf("the config lists %d layers, the archive %d", len(cfg.RootFS.DiffIDs), nLayers)
	}
	var layers []layerstore.Layer
	var parent digest.Digest
	for i, diffID := range cfg.RootFS.DiffIDs {
		r, err := open(i)
		if err != nil {
			return nil, err
		}
		l, err := s.AddLayer(ctx, parent, r, diffID)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		if wantBlobs != nil && l.Digest != wantBlobs[i] {
			return nil, fmt.Errorf("layer %d: blob digest is %s, the manifest says %s", i, l.Digest, wantBlobs[i])
		}
		fmt.Fprintf(progress, "Loading layer %s\n", short(l.DiffID))
		layers = append(layers, l)
		parent = l.ChainID
	}
	img, err := s.AddImage(ctx, rawConfig, layers, opts)
	if err != nil {
		return nil, err
	}
	if len(opts.Tags) == 0 {
		fmt.Fprintf(progress, "Loaded image ID: %s\n", img.ID)
	}
	for _, t := range img.RepoTags {
		fmt.Fprintf(progress, "Loaded image: %s\n", t)
	}
	return img, nil
}

func loadOCI(ctx context.Context, s *layerstore.Store, sp *spooled, progress io.Writer) ([]*layerstore.Image, error) {
	b, err := sp.read(ocispec.ImageIndexFile)
	if err != nil {
		return nil, err
	}
	var idx ocispec.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("load: index.json: %w", err)
	}
	var out []*layerstore.Image
	byManifest := map[digest.Digest]*layerstore.Image{}
	for _, d := range idx.Manifests {
		md, err := pickManifest(sp, d)
		if err != nil {
			return nil, fmt.Errorf("load: index.json: %w", err)
		}
		var tags []string
		if t := refName(d.Annotations); t != "" {
			tags = append(tags, t)
		}
		if img := byManifest[md.Digest]; img != nil {
			// Another tag of an image already loaded.
			for _, t := range tags {
				if err := s.Tag(img.ID.String(), t); err != nil {
					return nil, err
				}
				fmt.Fprintf(progress, "Loaded image: %s\n", t)
			}
			continue
		}
		rawManifest, err := readBlob(sp, md.Digest)
		if err != nil {
			return nil, err
		}
		var m ocispec.Manifest
		if err := json.Unmarshal(rawManifest, &m); err != nil {
			return nil, fmt.Errorf("load: manifest %s: %w", md.Digest, err)
		}
		rawConfig, err := readBlob(sp, m.Config.Digest)
		if err != nil {
			return nil, err
		}
		var want []digest.Digest
		for _, l := range m.Layers {
			want = append(want, l.Digest)
		}
		open := func(i int) (io.Reader, error) { return sp.open(blobName(want[i])) }
		img, err := addImage(ctx, s, rawConfig, open, len(m.Layers), want, layerstore.ImageOptions{Tags: tags, Manifest: rawManifest}, progress)
		if err != nil {
			return nil, fmt.Errorf("load: manifest %s: %w", md.Digest, err)
		}
		byManifest[md.Digest] = img
		out = append(out, img)
	}
	return out, nil
}

// pickManifest follows image indexes down to the manifest for this
// machine's platform.
func pickManifest(sp *spooled, d ocispec.Descriptor) (ocispec.Descriptor, error) {
	for depth := 0; depth < 4; depth++ {
		if d.MediaType != ocispec.MediaTypeImageIndex && d.MediaType != "application/vnd.docker.distribution.manifest.list.v2+json" {
			return d, nil
		}
		b, err := readBlob(sp, d.Digest)
		if err != nil {
			return d, err
		}
		var idx ocispec.Index
		if err := json.Unmarshal(b, &idx); err != nil {
			return d, fmt.Errorf("index %s: %w", d.Digest, err)
		}
		var found *ocispec.Descriptor
		for i, m := range idx.Manifests {
			if m.Platform == nil || m.Platform.OS == "linux" && m.Platform.Architecture == runtime.GOARCH {
				if _, err := sp.lookup(blobName(m.Digest)); err == nil {
					found = &idx.Manifests[i]
					break
				}
			}
		}
		if found == nil {
			return d, fmt.Errorf("index %s has no manifest for linux/%s in this archive", d.Digest, runtime.GOARCH)
		}
		d = *found
	}
	return d, fmt.Errorf("image indexes nested too deep")
}

// readBlob reads a metadata blob and checks its digest.
func readBlob(sp *spooled, d digest.Digest) ([]byte, error) {
	if err := d.Validate(); err != nil {
		return nil, fmt.Errorf("blob %q: %w", d, err)
	}
	b, err := sp.read(blobName(d))
	if err != nil {
		return nil, err
	}
	if got := digest.FromBytes(b); got != d {
		return nil, fmt.Errorf("blob %s has digest %s: corrupt archive", d, got)
	}
	return b, nil
}

func blobName(d digest.Digest) string { return "blobs/" + d.Algorithm().String() + "/" + d.Encoded() }

// refName is the tag an OCI layout gives a manifest: containerd's full
// name, or an OCI ref.name that is a whole reference (not just "latest").
func refName(a map[string]string) string {
	if n := a[layerstore.AnnotationImageName]; n != "" {
		return n
	}
	if n := a[ocispec.AnnotationRefName]; strings.ContainsAny(n, "/:") {
		return n
	}
	return ""
}

func short(d digest.Digest) string {
	if e := d.Encoded(); len(e) > 12 {
		return e[:12]
	}
	return d.String()
}
