package archive

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/distribution/reference"
	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/reconciler/reconciler/internal/decompress"
	"github.com/reconciler/reconciler/layerstore"
)

// Format is an archive format Save writes.
type Format int

const (
	// FormatDocker is `docker save`'s format as docker 25+ writes it:
	// manifest.json and repositories (read by every docker load) beside an
	// OCI layout (index.json, oci-layout, blobs/) with uncompressed layers.
	FormatDocker Format = iota
	// FormatOCI is an OCI image layout with the blobs exactly as stored.
	FormatOCI
)

// ParseFormat reads "docker" or "oci".
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(s) {
	case "", "docker":
		return FormatDocker, nil
	case "oci":
		return FormatOCI, nil
	}
	return 0, fmt.Errorf("unknown archive format %q: use docker or oci", s)
}

// selected is an image to save with the tags asked for.
type selected struct {
	img  *layerstore.Image
	tags []string
}

// Save writes the images refs name (tags or IDs; a tag is saved with its
// name, an ID without) to w in format.
func Save(ctx context.Context, s *layerstore.Store, refs []string, format Format, w io.Writer) error {
	if len(refs) == 0 {
		return fmt.Errorf("save: no image given")
	}
	var sel []*selected
	for _, ref := range refs {
		img, err := s.Resolve(ref)
		if err != nil {
			return fmt.Errorf("save: %w", err)
		}
		i := slices.IndexFunc(sel, func(x *selected) bool { return x.img.ID == img.ID })
		if i < 0 {
			sel = append(sel, &selected{img: img})
			i = len(sel) - 1
		}
		if t, err := layerstore.NormalizeTag(ref); err == nil && slices.Contains(img.RepoTags, t) && !slices.Contains(sel[i].tags, t) {
			sel[i].tags = append(sel[i].tags, t)
		}
	}
	aw := &archiveWriter{tw: tar.NewWriter(w), written: map[string]bool{}}
	save := saveDocker
	if format == FormatOCI {
		save = saveOCI
	}
	// Both formats are an OCI layout first: blobs/sha256/ leads the archive.
	err := aw.dir("blobs/")
	if err == nil {
		err = aw.dir("blobs/sha256/")
	}
	if err == nil {
		err = save(ctx, s, sel, aw)
	}
	if err != nil {
		return fmt.Errorf("save: %w", err)
	}
	return aw.tw.Close()
}

// archiveWriter writes each member once.
type archiveWriter struct {
	tw      *tar.Writer
	written map[string]bool
}

var epoch = time.Unix(0, 0)

func (a *archiveWriter) dir(name string) error {
	if a.written[name] {
		return nil
	}
	a.written[name] = true
	return a.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name, Mode: 0o755, ModTime: epoch})
}

func (a *archiveWriter) file(name string, size int64, r io.Reader) error {
	if a.written[name] {
		return nil
	}
	a.written[name] = true
	if err := a.tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: size, ModTime: epoch}); err != nil {
		return err
	}
	n, err := io.Copy(a.tw, r)
	if err == nil && n != size {
		err = fmt.Errorf("%s: wrote %d bytes, expected %d", name, n, size)
	}
	return err
}

func (a *archiveWriter) bytes(name string, b []byte) error {
	return a.file(name, int64(len(b)), bytes.NewReader(b))
}

func (a *archiveWriter) blob(b []byte) (ocispec.Descriptor, error) {
	d := digest.FromBytes(b)
	return ocispec.Descriptor{Digest: d, Size: int64(len(b))}, a.bytes(blobName(d), b)
}

func (a *archiveWriter) layout(manifests []ocispec.Descriptor) error {
	if err := a.bytes(ocispec.ImageLayoutFile, []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return err
	}
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: manifests}
	b, err := json.Marshal(idx)
	if err != nil {
		return err
	}
	return a.bytes(ocispec.ImageIndexFile, b)
}

// indexEntries are the index.json descriptors of one manifest: one per
// tag, named as docker 25+ does (full name, and the tag as ref.name).
func indexEntries(d ocispec.Descriptor, tags []string) []ocispec.Descriptor {
	if len(tags) == 0 {
		return []ocispec.Descriptor{d}
	}
	var out []ocispec.Descriptor
	for _, t := range tags {
		e := d
		e.Annotations = map[string]string{layerstore.AnnotationImageName: t}
		if named, err := reference.ParseNormalizedNamed(t); err == nil {
			e.Annotations[layerstore.AnnotationImageName] = named.String()
			if tagged, ok := named.(reference.Tagged); ok {
				e.Annotations[ocispec.AnnotationRefName] = tagged.Tag()
			}
		}
		out = append(out, e)
	}
	return out
}

func saveDocker(ctx context.Context, s *layerstore.Store, sel []*selected, a *archiveWriter) error {
	var items []dockerManifest
	var index []ocispec.Descriptor
	repos := map[string]map[string]string{}
	for _, x := range sel {
		rawConfig, err := s.RawConfig(x.img)
		if err != nil {
			return err
		}
		cfgDesc, err := a.blob(rawConfig)
		if err != nil {
			return err
		}
		cfgDesc.MediaType = ocispec.MediaTypeImageConfig
		m := ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Config: cfgDesc, Layers: []ocispec.Descriptor{}}
		item := dockerManifest{Config: blobName(x.img.ID), RepoTags: x.tags, Layers: []string{}}
		if item.RepoTags == nil {
			item.RepoTags = []string{}
		}
		for _, l := range x.img.Layers {
			if err := ctx.Err(); err != nil {
				return err
			}
			size, err := writeUncompressed(s, l, a)
			if err != nil {
				return fmt.Errorf("image %s: layer %s: %w", x.img.ID, l.DiffID, err)
			}
			m.Layers = append(m.Layers, ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: l.DiffID, Size: size})
			item.Layers = append(item.Layers, blobName(l.DiffID))
		}
		mb, err := json.Marshal(m)
		if err != nil {
			return err
		}
		md, err := a.blob(mb)
		if err != nil {
			return err
		}
		md.MediaType = ocispec.MediaTypeImageManifest
		index = append(index, indexEntries(md, x.tags)...)
		items = append(items, item)
		for _, t := range x.tags {
			if named, err := reference.ParseNormalizedNamed(t); err == nil {
				if tagged, ok := named.(reference.Tagged); ok {
					repo := reference.FamiliarName(named)
					if repos[repo] == nil {
						repos[repo] = map[string]string{}
					}
					repos[repo][tagged.Tag()] = x.img.ID.Encoded()
				}
			}
		}
	}
	if err := a.layout(index); err != nil {
		return err
	}
	mj, err := json.Marshal(items)
	if err != nil {
		return err
	}
	if err := a.bytes("manifest.json", mj); err != nil {
		return err
	}
	if len(repos) > 0 {
		rj, err := json.Marshal(repos)
		if err != nil {
			return err
		}
		return a.bytes("repositories", rj)
	}
	return nil
}

// writeUncompressed writes layer l as blobs/sha256/DIFFID, decompressing
// a compressed blob; it returns the tar's size.
func writeUncompressed(s *layerstore.Store, l layerstore.Layer, a *archiveWriter) (int64, error) {
	p, err := s.BlobPath(l.Digest)
	if err != nil {
		return 0, err
	}
	open := func() (io.Reader, func(), error) {
		f, err := os.Open(p)
		if err != nil {
			return nil, nil, err
		}
		r, _, err := decompress.Reader(f)
		if err != nil {
			f.Close()
			return nil, nil, err
		}
		return r, func() { r.Close(); f.Close() }, nil
	}
	size := l.TarSize
	if size == 0 {
		r, done, err := open()
		if err != nil {
			return 0, err
		}
		size, err = io.Copy(io.Discard, r)
		done()
		if err != nil {
			return 0, err
		}
	}
	r, done, err := open()
	if err != nil {
		return 0, err
	}
	defer done()
	return size, a.file(blobName(l.DiffID), size, r)
}

func saveOCI(ctx context.Context, s *layerstore.Store, sel []*selected, a *archiveWriter) error {
	var index []ocispec.Descriptor
	for _, x := range sel {
		rawConfig, err := s.RawConfig(x.img)
		if err != nil {
			return err
		}
		if _, err := a.blob(rawConfig); err != nil {
			return err
		}
		for _, l := range x.img.Layers {
			if err := ctx.Err(); err != nil {
				return err
			}
			p, err := s.BlobPath(l.Digest)
			if err != nil {
				return err
			}
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			err = a.file(blobName(l.Digest), l.Size, f)
			f.Close()
			if err != nil {
				return fmt.Errorf("image %s: layer %s: %w", x.img.ID, l.Digest, err)
			}
		}
		rawManifest, err := s.RawManifest(x.img)
		if err != nil {
			return err
		}
		md, err := a.blob(rawManifest)
		if err != nil {
			return err
		}
		var m struct {
			MediaType string `json:"mediaType"`
		}
		json.Unmarshal(rawManifest, &m)
		md.MediaType = m.MediaType
		if md.MediaType == "" {
			md.MediaType = ocispec.MediaTypeImageManifest
		}
		index = append(index, indexEntries(md, x.tags)...)
	}
	return a.layout(index)
}
