package layerstore

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"

	digest "github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Annotations on index.json descriptors. The tag goes in both the OCI and
// containerd spellings, as `docker save` (25+) writes them.
const (
	AnnotationImageName = "io.containerd.image.name"
	AnnotationImageID   = "io.reconciler.image.id"
	AnnotationParent    = "io.reconciler.image.parent"
)

// indexEntry is one image in index.json: its manifest, parent and tags
// (one descriptor per tag, or one untagged descriptor).
type indexEntry struct {
	ID       digest.Digest
	Manifest ocispec.Descriptor // without annotations
	Parent   digest.Digest
	Tags     []string
}

func (s *Store) readIndex() ([]*indexEntry, error) {
	b, err := os.ReadFile(s.path(ocispec.ImageIndexFile))
	if err != nil {
		return nil, fmt.Errorf("read image index: %w", err)
	}
	var idx ocispec.Index
	if err := json.Unmarshal(b, &idx); err != nil {
		return nil, fmt.Errorf("image index %s is corrupt: %w", s.path(ocispec.ImageIndexFile), err)
	}
	var out []*indexEntry
	byID := map[digest.Digest]*indexEntry{}
	for _, d := range idx.Manifests {
		id := digest.Digest(d.Annotations[AnnotationImageID])
		if id == "" {
			continue // not ours (hand-edited layout); ignored rather than guessed
		}
		e := byID[id]
		if e == nil {
			m := d
			m.Annotations = nil
			e = &indexEntry{ID: id, Manifest: m, Parent: digest.Digest(d.Annotations[AnnotationParent])}
			byID[id] = e
			out = append(out, e)
		}
		if t := d.Annotations[AnnotationImageName]; t != "" && !slices.Contains(e.Tags, t) {
			e.Tags = append(e.Tags, t)
		}
	}
	return out, nil
}

// writeIndex replaces index.json; callers hold the lock.
func (s *Store) writeIndex(entries []*indexEntry) error {
	idx := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}}
	for _, e := range entries {
		base := map[string]string{AnnotationImageID: e.ID.String()}
		if e.Parent != "" {
			base[AnnotationParent] = e.Parent.String()
		}
		tags := e.Tags
		if len(tags) == 0 {
			tags = []string{""}
		}
		for _, t := range tags {
			d := e.Manifest
			d.Annotations = map[string]string{}
			for k, v := range base {
				d.Annotations[k] = v
			}
			if t != "" {
				d.Annotations[AnnotationImageName] = t
				d.Annotations[ocispec.AnnotationRefName] = t
			}
			idx.Manifests = append(idx.Manifests, d)
		}
	}
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(s, ocispec.ImageIndexFile, b)
}

func findEntry(entries []*indexEntry, id digest.Digest) *indexEntry {
	for _, e := range entries {
		if e.ID == id {
			return e
		}
	}
	return nil
}

// moveTag points tag at e, taking it from whichever image had it.
func moveTag(entries []*indexEntry, e *indexEntry, tag string) {
	for _, o := range entries {
		o.Tags = slices.DeleteFunc(o.Tags, func(t string) bool { return t == tag })
	}
	e.Tags = append(e.Tags, tag)
	slices.Sort(e.Tags)
}
