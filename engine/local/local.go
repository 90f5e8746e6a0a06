// Package local is the engine of this machine: one state root, its image
// store (layerstore), its named volumes (volumes) and its containers
// (runtime), composed in-process. It implements engine.Engine for the
// controller; the daemon serves the same Engine over the Docker API.
//
// Layout of the state root:
//
//	ROOT/images/      layerstore: blobs, index, unpacked layers, build cache
//	ROOT/volumes/     named volumes: NAME/_data and metadata
//	ROOT/containers/  runtime: one folder per container (state, log, layer)
package local

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	digest "github.com/opencontainers/go-digest"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/reconciler/reconciler/layerstore"
	"github.com/reconciler/reconciler/runtime"
	"github.com/reconciler/reconciler/volumes"
)

// Engine is the local engine. It is safe for concurrent use. Whoever opens
// a state root must hold its lock (see internal/rootlock): two engines
// writing one root would race.
type Engine struct {
	root       string
	images     *layerstore.Store
	volumes    *volumes.Manager
	containers *runtime.Runtime
	bus        *bus
}

// Options tune an Engine; the zero value suits a daemon.
type Options struct {
	// ShortLived is for an engine opened by one CLI command: no shim is
	// started ahead of need, since the process ends before it would serve.
	ShortLived bool
	// StartsContainer is for a command about to start a container: a
	// shim is started at once, to boot while the container is created.
	StartsContainer bool
}

// Open opens (creating if needed) the state root and adopts the containers
// already running under it.
func Open(root string) (*Engine, error) { return OpenWith(root, Options{}) }

// OpenWith is Open with options.
func OpenWith(root string, o Options) (*Engine, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(abs, 0o711); err != nil {
		return nil, fmt.Errorf("state root %s: %w", abs, err)
	}
	e := &Engine{root: abs, bus: newBus()}
	if e.images, err = layerstore.Open(filepath.Join(abs, "images")); err != nil {
		return nil, fmt.Errorf("image store: %w", err)
	}
	if e.volumes, err = volumes.Open(filepath.Join(abs, "volumes")); err != nil {
		return nil, fmt.Errorf("volumes: %w", err)
	}
	if e.containers, err = runtime.New(filepath.Join(abs, "containers"), runtime.Options{ShortLived: o.ShortLived, SpareAtOpen: o.StartsContainer}); err != nil {
		e.volumes.Close()
		return nil, fmt.Errorf("containers: %w", err)
	}
	e.images.SetInUse(e.imagesInUse)
	go e.forwardContainerEvents()
	return e, nil
}

// Close releases the engine's resources. Containers keep running under
// their shims, for the next Engine on this root to adopt.
func (e *Engine) Close() error {
	err := errors.Join(e.containers.Close(), e.volumes.Close())
	e.bus.close()
	return err
}

// Root is the state root.
func (e *Engine) Root() string { return e.root }

// ImageStore is the image store, for commands that work on it directly
// (save, load, history).
func (e *Engine) ImageStore() *layerstore.Store { return e.images }

// VolumeManager is the volume manager.
func (e *Engine) VolumeManager() *volumes.Manager { return e.volumes }

// Runtime is the container runtime.
func (e *Engine) Runtime() *runtime.Runtime { return e.containers }

// Collectors are the Prometheus collectors of every part of the engine.
func (e *Engine) Collectors() []prometheus.Collector {
	var cs []prometheus.Collector
	cs = append(cs, e.images.Collectors()...)
	cs = append(cs, e.volumes.Collectors()...)
	cs = append(cs, e.containers.Collectors()...)
	return cs
}

// imagesInUse tells the image store which images containers were created
// from, so it never removes them.
func (e *Engine) imagesInUse() map[digest.Digest]bool {
	used := map[digest.Digest]bool{}
	cs, err := e.containers.List()
	if err != nil {
		// Unknown means everything is in use: never delete on doubt.
		for _, img := range mustList(e.images) {
			used[img.ID] = true
		}
		return used
	}
	for _, c := range cs {
		if c.Spec.ImageID != "" {
			used[digest.Digest(c.Spec.ImageID)] = true
		}
	}
	return used
}

func mustList(s *layerstore.Store) []*layerstore.Image {
	imgs, _ := s.List()
	return imgs
}
