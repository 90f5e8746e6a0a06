// Package registry pulls images from and pushes them to OCI registries
// (Docker Hub, distribution, any OCI-compliant registry) with
// go-containerregistry's remote package, reading and writing a
// layerstore.Store. Layers already in the store are not downloaded again.
package registry

import (
	"context"
	"fmt"
	"io"
	"runtime"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	digest "github.com/opencontainers/go-digest"
)

// Options tune Pull and Push.
type Options struct {
	// Progress receives docker-pull/push style lines (nil: none).
	Progress io.Writer
	// Insecure allows plain http (loopback and test registries).
	Insecure bool
	// Platform to pull from a multi-platform index; default linux/GOARCH.
	Platform *v1.Platform
	// Keychain for credentials; default: docker's config.json and helpers.
	Keychain authn.Keychain
}

func (o Options) progress() io.Writer {
	if o.Progress == nil {
		return io.Discard
	}
	return o.Progress
}

func (o Options) parse(ref string) (name.Reference, error) {
	var nopts []name.Option
	if o.Insecure {
		nopts = append(nopts, name.Insecure)
	}
	r, err := name.ParseReference(ref, nopts...)
	if err != nil {
		return nil, fmt.Errorf("invalid image reference %q: %w", ref, err)
	}
	return r, nil
}

func (o Options) remote(ctx context.Context) []remote.Option {
	kc := o.Keychain
	if kc == nil {
		kc = authn.DefaultKeychain
	}
	p := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if o.Platform != nil {
		p = *o.Platform
	}
	return []remote.Option{remote.WithContext(ctx), remote.WithAuthFromKeychain(kc), remote.WithPlatform(p)}
}

// countingReader counts bytes read (for metrics).
type countingReader struct {
	io.ReadCloser
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n += int64(n)
	return n, err
}

func short(d digest.Digest) string {
	if e := d.Encoded(); len(e) > 12 {
		return e[:12]
	}
	return d.String()
}
