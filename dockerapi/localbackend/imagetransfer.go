package localbackend

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	goruntime "runtime"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/moby/moby/api/types/events"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/engine/local"
	"github.com/reconciler/reconciler/layerstore"
	"github.com/reconciler/reconciler/layerstore/archive"
	"github.com/reconciler/reconciler/layerstore/registry"
)

// ImageLoad implements dockerapi.ImageBackend for docker-save archives,
// OCI layouts and (as docker load does) plain rootfs tarballs. The
// "Loaded image" lines are the server's to write, from the names returned.
func (b *Backend) ImageLoad(ctx context.Context, r io.Reader, progress io.Writer) ([]string, error) {
	imgs, err := archive.Load(ctx, b.store(), r, dropLines(progress, "Loaded image"))
	if err != nil {
		if wrapped := local.WrapError(err); wrapped != err {
			return nil, wrapped
		}
		return nil, fmt.Errorf("%w: %v", engine.ErrInvalid, err)
	}
	var loaded []string
	for _, img := range imgs {
		b.publishImage(events.ActionLoad, img.ID.String(), map[string]string{"name": img.ID.String()})
		if len(img.RepoTags) == 0 {
			loaded = append(loaded, img.ID.String())
		}
		loaded = append(loaded, img.RepoTags...)
	}
	return loaded, nil
}

// ImageSave implements dockerapi.ImageBackend in docker's format. Every
// ref is resolved before the first byte is written, so a missing one is a
// clean 404 rather than a truncated archive.
func (b *Backend) ImageSave(ctx context.Context, refs []string, w io.Writer) error {
	if len(refs) == 0 {
		return fmt.Errorf("%w: save: no image given", engine.ErrInvalid)
	}
	var ids []string
	for _, ref := range refs {
		img, err := b.image(ref)
		if err != nil {
			return err
		}
		ids = append(ids, img.ID.String())
	}
	if err := archive.Save(ctx, b.store(), refs, archive.FormatDocker, w); err != nil {
		return local.WrapError(err)
	}
	for i, id := range ids {
		b.publishImage(events.ActionSave, id, map[string]string{"name": refs[i]})
	}
	return nil
}

// ImagePull implements dockerapi.ImageBackend with layerstore/registry.
// Loopback and private-network registries are spoken to over plain http,
// as go-containerregistry (and Docker, for 127.0.0.0/8) do.
func (b *Backend) ImagePull(ctx context.Context, ref string, o dockerapi.PullOptions, progress io.Writer) error {
	opts, err := registryOptions(o.RegistryAuth, progress)
	if err != nil {
		return err
	}
	if o.Platform != "" {
		if err := checkPlatform(o.Platform); err != nil {
			return err
		}
		p, err := v1.ParsePlatform(o.Platform)
		if err != nil {
			return fmt.Errorf("%w: platform %q: %v", engine.ErrInvalid, o.Platform, err)
		}
		if p.Architecture == "" { // "linux" alone must not match another machine's image
			p.Architecture = goruntime.GOARCH
		}
		opts.Platform = p
	}
	img, err := registry.Pull(ctx, b.store(), ref, opts)
	if err != nil {
		return registryError(err)
	}
	attrs := map[string]string{"name": dockerapi.FamiliarRef(ref)}
	b.publishImage(events.ActionPull, img.ID.String(), attrs)
	return nil
}

// ImagePush implements dockerapi.ImageBackend: ref is pushed to the
// registry its name says, blobs and manifest as stored.
func (b *Backend) ImagePush(ctx context.Context, ref string, o dockerapi.PushOptions, progress io.Writer) error {
	img, err := b.store().Resolve(ref)
	if errors.Is(err, layerstore.ErrNotFound) {
		return fmt.Errorf("%w: An image does not exist locally with the tag: %s", engine.ErrNotFound, ref)
	}
	if err != nil {
		return local.WrapError(err)
	}
	opts, err := registryOptions(o.RegistryAuth, progress)
	if err != nil {
		return err
	}
	if err := registry.Push(ctx, b.store(), ref, ref, opts); err != nil {
		return registryError(err)
	}
	b.publishImage(events.ActionPush, img.ID.String(), map[string]string{"name": dockerapi.FamiliarRef(ref)})
	return nil
}

// registryOptions carries the client's X-Registry-Auth credentials, if
// any; without them the daemon's own docker config is used.
func registryOptions(auth string, progress io.Writer) (registry.Options, error) {
	opts := registry.Options{Progress: progress}
	cfg, err := decodeAuth(auth)
	if err != nil {
		return opts, err
	}
	if cfg != (authn.AuthConfig{}) {
		opts.Keychain = staticKeychain{authn.FromConfig(cfg)}
	}
	return opts, nil
}

// decodeAuth reads X-Registry-Auth: base64url JSON of Docker's auth
// config ("e30=" is {}, no credentials).
func decodeAuth(s string) (authn.AuthConfig, error) {
	var cfg authn.AuthConfig
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	if s == "" {
		return cfg, nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		if raw, err = base64.RawStdEncoding.DecodeString(s); err != nil {
			return cfg, fmt.Errorf("%w: X-Registry-Auth is not base64: %v", engine.ErrInvalid, err)
		}
	}
	if err := json.Unmarshal(raw, &cfg); err != nil {
		return cfg, fmt.Errorf("%w: X-Registry-Auth is not an auth config: %v", engine.ErrInvalid, err)
	}
	return cfg, nil
}

// staticKeychain answers every registry with the client's credentials:
// X-Registry-Auth is sent for the one registry of the request.
type staticKeychain struct{ a authn.Authenticator }

func (k staticKeychain) Resolve(authn.Resource) (authn.Authenticator, error) { return k.a, nil }

// registryError maps a bad reference to 400 and a registry's 404 to 404;
// anything else (unreachable, denied) stays a server error, as dockerd's.
func registryError(err error) error {
	var bad *name.ErrBadName
	var terr *transport.Error
	switch {
	case errors.As(err, &bad):
		return fmt.Errorf("%w: %v", engine.ErrInvalid, err)
	case errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound:
		return fmt.Errorf("%w: %v", engine.ErrNotFound, err)
	}
	return local.WrapError(err)
}
