package registry

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	digest "github.com/opencontainers/go-digest"

	"github.com/reconciler/reconciler/layerstore"
)

// Pull fetches ref (for this machine's platform if it is an index) into
// the store and tags it with ref (unless ref is a digest). The manifest is
// kept as the registry served it, so the image keeps its registry digest.
func Pull(ctx context.Context, s *layerstore.Store, ref string, opts Options) (img *layerstore.Image, err error) {
	defer func() { countOp(pulls, err) }()
	out := opts.progress()
	r, err := opts.parse(ref)
	if err != nil {
		return nil, err
	}
	desc, err := remote.Get(r, opts.remote(ctx)...)
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	rimg, err := desc.Image()
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	rawManifest, err := rimg.RawManifest()
	if err != nil {
		return nil, fmt.Errorf("pull %s: manifest: %w", ref, err)
	}
	rawConfig, err := rimg.RawConfigFile()
	if err != nil {
		return nil, fmt.Errorf("pull %s: config: %w", ref, err)
	}
	cfg, err := rimg.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("pull %s: config: %w", ref, err)
	}
	rlayers, err := rimg.Layers()
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	if len(rlayers) != len(cfg.RootFS.DiffIDs) {
		return nil, fmt.Errorf("pull %s: manifest has %d layers, config %d", ref, len(rlayers), len(cfg.RootFS.DiffIDs))
	}
	var layers []layerstore.Layer
	var parent digest.Digest
	for i, rl := range rlayers {
		h, err := rl.Digest()
		if err != nil {
			return nil, err
		}
		blob := digest.Digest(h.String())
		diffID := digest.Digest(cfg.RootFS.DiffIDs[i].String())
		mt, _ := rl.MediaType()
		size, _ := rl.Size()
		chain := layerstore.ChainID(parent, diffID)
		_, dirErr := s.LayerDir(chain)
		_, blobErr := s.BlobPath(blob)
		if dirErr == nil && blobErr == nil {
			fmt.Fprintf(out, "%s: Already exists\n", short(blob))
			layers = append(layers, layerstore.Layer{DiffID: diffID, ChainID: chain, Digest: blob, MediaType: string(mt), Size: size})
			parent = chain
			continue
		}
		fmt.Fprintf(out, "%s: Pulling fs layer\n", short(blob))
		rc, err := rl.Compressed()
		if err != nil {
			return nil, fmt.Errorf("pull %s: layer %s: %w", ref, blob, err)
		}
		cr := &countingReader{ReadCloser: rc}
		l, err := s.AddLayer(ctx, parent, cr, diffID)
		rc.Close()
		pullBytes.Add(float64(cr.n))
		if err != nil {
			return nil, fmt.Errorf("pull %s: layer %s: %w", ref, blob, err)
		}
		if l.Digest != blob {
			return nil, fmt.Errorf("pull %s: layer blob has digest %s, the manifest says %s", ref, l.Digest, blob)
		}
		l.MediaType = string(mt)
		fmt.Fprintf(out, "%s: Pull complete\n", short(blob))
		layers = append(layers, l)
		parent = l.ChainID
	}
	var tags []string
	if t, ok := r.(name.Tag); ok {
		tag, err := layerstore.NormalizeTag(t.Name())
		if err != nil {
			return nil, err
		}
		tags = append(tags, tag)
	}
	img, err = s.AddImage(ctx, rawConfig, layers, layerstore.ImageOptions{Tags: tags, Manifest: rawManifest})
	if err != nil {
		return nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	fmt.Fprintf(out, "Digest: %s\n", digest.FromBytes(rawManifest))
	fmt.Fprintf(out, "Status: Downloaded image for %s\n", r.Name())
	return img, nil
}
