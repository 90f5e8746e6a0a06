package layerstore

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Image is an image in the store. ID is the config digest, which makes it
// the same ID Docker shows for the same image.
type Image struct {
	ID       digest.Digest
	RepoTags []string
	Config   ocispec.Image
	Layers   []Layer       // base first
	Parent   digest.Digest // image this one was built on (classic-builder style), "" if none
	Created  time.Time
	Size     int64 // sum of layer blob sizes

	// ManifestDigest is the stored manifest (what a registry calls the
	// image's digest after a pull or push of the same manifest).
	ManifestDigest digest.Digest
}

// imageCore is the immutable part of an image, parsed once.
type imageCore struct {
	manifest    ocispec.Manifest
	rawManifest []byte
	rawConfig   []byte
	config      ocispec.Image
	layers      []Layer
	size        int64
}

// ImageOptions are the optional parts of AddImage.
type ImageOptions struct {
	Parent digest.Digest
	Tags   []string
	// Manifest is kept as given (pulls keep the registry's manifest digest);
	// nil writes an OCI manifest.
	Manifest []byte
}

// CreateImage writes config and manifest (cfg.RootFS.DiffIDs must match
// layers; left empty they are filled in) and tags the image.
func (s *Store) CreateImage(ctx context.Context, cfg ocispec.Image, layers []Layer, parent digest.Digest, tags ...string) (*Image, error) {
	cfg.RootFS.Type = "layers"
	if len(cfg.RootFS.DiffIDs) == 0 {
		for _, l := range layers {
			cfg.RootFS.DiffIDs = append(cfg.RootFS.DiffIDs, l.DiffID)
		}
	}
	if cfg.OS == "" {
		cfg.OS = "linux"
	}
	if cfg.Architecture == "" {
		cfg.Architecture = runtime.GOARCH
	}
	if cfg.Created == nil {
		now := time.Now().UTC()
		cfg.Created = &now
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	return s.AddImage(ctx, raw, layers, ImageOptions{Parent: parent, Tags: tags})
}

// AddImage stores an image from its raw config (kept byte for byte, so its
// digest, the image ID, is preserved) and its layers, already added.
func (s *Store) AddImage(ctx context.Context, rawConfig []byte, layers []Layer, opts ImageOptions) (*Image, error) {
	var cfg ocispec.Image
	if err := json.Unmarshal(rawConfig, &cfg); err != nil {
		return nil, fmt.Errorf("image config: %w", err)
	}
	id := digest.FromBytes(rawConfig)
	if len(cfg.RootFS.DiffIDs) != len(layers) {
		return nil, fmt.Errorf("image %s: config lists %d layers (rootfs.diff_ids), %d given", id, len(cfg.RootFS.DiffIDs), len(layers))
	}
	// Under the lock from here: GC cannot take a layer between the check
	// and the index update.
	unlock, err := s.lock()
	if err != nil {
		return nil, err
	}
	defer unlock()
	var chain digest.Digest
	layers = slices.Clone(layers)
	for i := range layers {
		l := &layers[i]
		if l.DiffID != cfg.RootFS.DiffIDs[i] {
			return nil, fmt.Errorf("image %s: layer %d has diff ID %s, config says %s", id, i, l.DiffID, cfg.RootFS.DiffIDs[i])
		}
		chain = ChainID(chain, l.DiffID)
		if l.ChainID != "" && l.ChainID != chain {
			return nil, fmt.Errorf("image %s: layer %d has chain ID %s, its position in the stack makes it %s", id, i, l.ChainID, chain)
		}
		l.ChainID = chain
		if _, err := s.LayerDir(chain); err != nil {
			return nil, fmt.Errorf("image %s: layer %d: %w (add it with AddLayer first)", id, i, err)
		}
		if _, err := s.BlobPath(l.Digest); err != nil {
			return nil, fmt.Errorf("image %s: layer %d: %w", id, i, err)
		}
	}
	tags := make([]string, 0, len(opts.Tags))
	for _, t := range opts.Tags {
		n, err := NormalizeTag(t)
		if err != nil {
			return nil, err
		}
		tags = append(tags, n)
	}
	rawManifest := opts.Manifest
	mediaType := ocispec.MediaTypeImageManifest
	if rawManifest == nil {
		m := ocispec.Manifest{
			Versioned: specs.Versioned{SchemaVersion: 2},
			MediaType: ocispec.MediaTypeImageManifest,
			Config:    ocispec.Descriptor{MediaType: ocispec.MediaTypeImageConfig, Digest: id, Size: int64(len(rawConfig))},
			Layers:    []ocispec.Descriptor{},
		}
		for _, l := range layers {
			m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: l.MediaType, Digest: l.Digest, Size: l.Size})
		}
		rawManifest, _ = json.Marshal(m)
	} else {
		var m ocispec.Manifest
		if err := json.Unmarshal(rawManifest, &m); err != nil {
			return nil, fmt.Errorf("image %s: manifest: %w", id, err)
		}
		if m.Config.Digest != id || len(m.Layers) != len(layers) {
			return nil, fmt.Errorf("image %s: the manifest names config %s and %d layers, which does not match", id, m.Config.Digest, len(m.Layers))
		}
		for i, d := range m.Layers {
			if d.Digest != layers[i].Digest {
				return nil, fmt.Errorf("image %s: manifest layer %d is %s, the layer added is %s", id, i, d.Digest, layers[i].Digest)
			}
		}
		if m.MediaType != "" {
			mediaType = m.MediaType
		}
	}

	if _, err := s.putBlob(rawConfig); err != nil {
		return nil, err
	}
	md, err := s.putBlob(rawManifest)
	if err != nil {
		return nil, err
	}
	entries, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	e := findEntry(entries, id)
	if e == nil {
		e = &indexEntry{ID: id, Manifest: ocispec.Descriptor{MediaType: mediaType, Digest: md, Size: int64(len(rawManifest))}, Parent: opts.Parent}
		entries = append(entries, e)
	} else if e.Parent == "" {
		e.Parent = opts.Parent
	}
	for _, t := range tags {
		moveTag(entries, e, t)
	}
	if err := s.writeIndex(entries); err != nil {
		return nil, err
	}
	for _, l := range layers {
		delete(s.pending, l.ChainID)
		delete(s.pending, l.Digest)
	}
	return s.image(e)
}

// core parses (once) the manifest and config of an index entry.
func (s *Store) core(e *indexEntry) (*imageCore, error) {
	s.cacheMu.Lock()
	c := s.images[e.ID]
	s.cacheMu.Unlock()
	if c != nil {
		return c, nil
	}
	c = &imageCore{}
	var err error
	if c.rawManifest, err = s.ReadBlob(e.Manifest.Digest); err != nil {
		return nil, fmt.Errorf("image %s: manifest: %w", e.ID, err)
	}
	if err := json.Unmarshal(c.rawManifest, &c.manifest); err != nil {
		return nil, fmt.Errorf("image %s: manifest: %w", e.ID, err)
	}
	if c.rawConfig, err = s.ReadBlob(e.ID); err != nil {
		return nil, fmt.Errorf("image %s: config: %w", e.ID, err)
	}
	if err := json.Unmarshal(c.rawConfig, &c.config); err != nil {
		return nil, fmt.Errorf("image %s: config: %w", e.ID, err)
	}
	if len(c.config.RootFS.DiffIDs) != len(c.manifest.Layers) {
		return nil, fmt.Errorf("image %s: config and manifest disagree on the number of layers", e.ID)
	}
	var chain digest.Digest
	for i, d := range c.manifest.Layers {
		diffID := c.config.RootFS.DiffIDs[i]
		chain = ChainID(chain, diffID)
		l := Layer{DiffID: diffID, ChainID: chain, Digest: d.Digest, MediaType: d.MediaType, Size: d.Size}
		if rec, err := s.readLayer(chain); err == nil {
			l.TarSize = rec.TarSize
		}
		c.layers = append(c.layers, l)
		c.size += d.Size
	}
	s.cacheMu.Lock()
	s.images[e.ID] = c
	s.cacheMu.Unlock()
	return c, nil
}

func (s *Store) image(e *indexEntry) (*Image, error) {
	c, err := s.core(e)
	if err != nil {
		return nil, err
	}
	img := &Image{
		ID:             e.ID,
		RepoTags:       slices.Clone(e.Tags),
		Config:         c.config,
		Layers:         slices.Clone(c.layers),
		Parent:         e.Parent,
		Size:           c.size,
		ManifestDigest: e.Manifest.Digest,
	}
	if c.config.Created != nil {
		img.Created = *c.config.Created
	}
	return img, nil
}

// RawConfig is the image's config exactly as stored (its digest is the ID).
func (s *Store) RawConfig(img *Image) ([]byte, error) { return s.ReadBlob(img.ID) }

// RawManifest is the image's stored manifest.
func (s *Store) RawManifest(img *Image) ([]byte, error) { return s.ReadBlob(img.ManifestDigest) }

// List returns every image, oldest first.
func (s *Store) List() ([]*Image, error) {
	entries, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	out := make([]*Image, 0, len(entries))
	for _, e := range entries {
		img, err := s.image(e)
		if err != nil {
			return nil, err
		}
		out = append(out, img)
	}
	slices.SortStableFunc(out, func(a, b *Image) int { return a.Created.Compare(b.Created) })
	return out, nil
}

// Resolve finds an image by tag ("name" means "name:latest"; a
// "docker.io/library/" prefix is ignored), full ID ("sha256:..."), unique
// ID prefix, or NAME@DIGEST with its manifest digest. The error wraps ErrNotFound (or ErrConflict if ambiguous).
func (s *Store) Resolve(ref string) (*Image, error) {
	entries, err := s.readIndex()
	if err != nil {
		return nil, err
	}
	e, err := resolveEntry(entries, ref)
	if err != nil {
		return nil, err
	}
	return s.image(e)
}

func resolveEntry(entries []*indexEntry, ref string) (*indexEntry, error) {
	if _, d, ok := strings.Cut(ref, "@"); ok {
		// name@sha256:... names a manifest (as pulled by digest).
		for _, e := range entries {
			if e.Manifest.Digest.String() == d {
				return e, nil
			}
		}
		return nil, fmt.Errorf("no such image: %s: %w", ref, ErrNotFound)
	}
	if tag, err := NormalizeTag(ref); err == nil {
		for _, e := range entries {
			if slices.Contains(e.Tags, tag) {
				return e, nil
			}
		}
	}
	hex := strings.TrimPrefix(ref, "sha256:")
	if isHex(hex) {
		var found *indexEntry
		for _, e := range entries {
			if strings.HasPrefix(e.ID.Encoded(), hex) {
				if found != nil {
					return nil, fmt.Errorf("image ID prefix %q matches several images: %w", ref, ErrConflict)
				}
				found = e
			}
		}
		if found != nil {
			return found, nil
		}
	}
	return nil, fmt.Errorf("no such image: %s: %w", ref, ErrNotFound)
}

func isHex(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// Tag gives the image ref resolves to the tag (moving it from any other).
func (s *Store) Tag(ref, tag string) error {
	t, err := NormalizeTag(tag)
	if err != nil {
		return err
	}
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	entries, err := s.readIndex()
	if err != nil {
		return err
	}
	e, err := resolveEntry(entries, ref)
	if err != nil {
		return err
	}
	moveTag(entries, e, t)
	return s.writeIndex(entries)
}

// LowerDirs returns the unpacked layer directories of an image, base first.
func (s *Store) LowerDirs(img *Image) ([]string, error) {
	dirs := make([]string, 0, len(img.Layers))
	for _, l := range img.Layers {
		d, err := s.LayerDir(l.ChainID)
		if err != nil {
			return nil, fmt.Errorf("image %s: %w", img.ID, err)
		}
		dirs = append(dirs, d)
	}
	return dirs, nil
}
