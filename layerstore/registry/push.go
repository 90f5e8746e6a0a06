package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
	digest "github.com/opencontainers/go-digest"

	"github.com/reconciler/reconciler/layerstore"
)

// Push uploads the local image localRef as remoteRef, blobs and manifest
// exactly as stored (so a pulled image pushes with the same digest).
func Push(ctx context.Context, s *layerstore.Store, localRef, remoteRef string, opts Options) (err error) {
	defer func() { countOp(pushes, err) }()
	out := opts.progress()
	img, err := s.Resolve(localRef)
	if err != nil {
		return fmt.Errorf("push: %w", err)
	}
	r, err := opts.parse(remoteRef)
	if err != nil {
		return err
	}
	core, err := newStoreImage(s, img)
	if err != nil {
		return fmt.Errorf("push %s: %w", remoteRef, err)
	}
	v1img, err := partial.CompressedToImage(core)
	if err != nil {
		return fmt.Errorf("push %s: %w", remoteRef, err)
	}
	fmt.Fprintf(out, "The push refers to repository [%s]\n", r.Context().Name())
	for _, l := range img.Layers {
		fmt.Fprintf(out, "%s: Preparing\n", short(l.Digest))
	}
	updates := make(chan v1.Update, 16)
	done := make(chan int64)
	go func() {
		var last, lastPct int64
		for u := range updates {
			if u.Total > 0 {
				if pct := u.Complete * 100 / u.Total; pct >= lastPct+25 || u.Complete == u.Total && last != u.Complete {
					fmt.Fprintf(out, "Pushing %d/%d bytes\n", u.Complete, u.Total)
					lastPct = pct
				}
			}
			last = u.Complete
		}
		done <- last
	}()
	err = remote.Write(r, v1img, append(opts.remote(ctx), remote.WithProgress(updates))...)
	pushBytes.Add(float64(<-done))
	if err != nil {
		return fmt.Errorf("push %s: %w", remoteRef, err)
	}
	fmt.Fprintf(out, "%s: digest: %s size: %d\n", r.Identifier(), core.manifestDigest, len(core.rawManifest))
	return nil
}

// storeImage is a stored image seen as go-containerregistry's
// CompressedImageCore: manifest, config and blobs read from the store.
type storeImage struct {
	s              *layerstore.Store
	rawManifest    []byte
	rawConfig      []byte
	manifestDigest digest.Digest
	mediaType      types.MediaType
	layers         map[string]layerstore.Layer
}

func newStoreImage(s *layerstore.Store, img *layerstore.Image) (*storeImage, error) {
	rm, err := s.RawManifest(img)
	if err != nil {
		return nil, err
	}
	rc, err := s.RawConfig(img)
	if err != nil {
		return nil, err
	}
	var m struct {
		MediaType types.MediaType `json:"mediaType"`
	}
	if err := json.Unmarshal(rm, &m); err != nil {
		return nil, err
	}
	if m.MediaType == "" {
		m.MediaType = types.OCIManifestSchema1
	}
	si := &storeImage{s: s, rawManifest: rm, rawConfig: rc, manifestDigest: digest.FromBytes(rm), mediaType: m.MediaType, layers: map[string]layerstore.Layer{}}
	for _, l := range img.Layers {
		si.layers[l.Digest.String()] = l
	}
	return si, nil
}

func (i *storeImage) RawConfigFile() ([]byte, error)      { return i.rawConfig, nil }
func (i *storeImage) MediaType() (types.MediaType, error) { return i.mediaType, nil }
func (i *storeImage) RawManifest() ([]byte, error)        { return i.rawManifest, nil }

func (i *storeImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	if h.String() == digest.FromBytes(i.rawConfig).String() {
		return &configBlob{b: i.rawConfig}, nil
	}
	l, ok := i.layers[h.String()]
	if !ok {
		return nil, fmt.Errorf("image has no blob %s", h)
	}
	return &storeLayer{s: i.s, l: l}, nil
}

// storeLayer is a layer blob in the store.
type storeLayer struct {
	s *layerstore.Store
	l layerstore.Layer
}

func (l *storeLayer) Digest() (v1.Hash, error)            { return v1.NewHash(l.l.Digest.String()) }
func (l *storeLayer) Size() (int64, error)                { return l.l.Size, nil }
func (l *storeLayer) MediaType() (types.MediaType, error) { return types.MediaType(l.l.MediaType), nil }
func (l *storeLayer) Compressed() (io.ReadCloser, error) {
	p, err := l.s.BlobPath(l.l.Digest)
	if err != nil {
		return nil, err
	}
	return os.Open(p)
}

// configBlob serves the config when asked for it by digest.
type configBlob struct{ b []byte }

func (c *configBlob) Digest() (v1.Hash, error)            { return v1.NewHash(digest.FromBytes(c.b).String()) }
func (c *configBlob) Size() (int64, error)                { return int64(len(c.b)), nil }
func (c *configBlob) MediaType() (types.MediaType, error) { return types.OCIConfigJSON, nil }
func (c *configBlob) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(bytes.NewReader(c.b)), nil
}
