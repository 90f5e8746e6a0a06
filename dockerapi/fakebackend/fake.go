// Package fakebackend is an in-memory dockerapi.Backend for tests of the
// API server and of API clients (the docker CLI, dockerapi/client).
// Containers run fake programs (echo, cat, sleep, env, true, false and
// sh -c with ";"-separated commands) instead of processes, with real
// streams, exit codes, waits, logs, attach and exec. Images and volumes are
// records; image archives are JSON listings of those records.
package fakebackend

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/events"
	"github.com/moby/moby/api/types/system"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/engine"
)

// Backend is the fake engine. The zero value is not usable; call New.
type Backend struct {
	*dockerapi.EventBus
	dockerapi.FixedNetworks

	mu         sync.Mutex
	containers map[string]*ctr // by ID
	images     map[string]*img // by ID
	volumes    map[string]*vol // by name
	execs      map[string]*execProc
	root       string
}

var _ dockerapi.Backend = (*Backend)(nil)

// New makes an empty fake engine; root only names volume mountpoints.
func New(root string) *Backend {
	b := &Backend{
		EventBus:   dockerapi.NewEventBus(1000),
		containers: map[string]*ctr{},
		images:     map[string]*img{},
		volumes:    map[string]*vol{},
		execs:      map[string]*execProc{},
		root:       root,
	}
	b.FixedNetworks.Attached, b.FixedNetworks.Created = b.networkAttachments, now()
	return b
}

func randomID() string {
	b := make([]byte, 32)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func digestOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

func (b *Backend) publish(typ events.Type, action events.Action, id string, attrs map[string]string) {
	b.Publish(events.Message{Type: typ, Action: action, Actor: events.Actor{ID: id, Attributes: attrs}})
}

func notFound(what, ref string) error {
	return fmt.Errorf("%w: No such %s: %s", engine.ErrNotFound, what, ref)
}

// Info implements dockerapi.SystemBackend.
func (b *Backend) Info(ctx context.Context) (system.Info, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := system.Info{Containers: len(b.containers), Images: len(b.images), Driver: "fake", LoggingDriver: "fake",
		NEventsListener: b.Subscribers(), DefaultRuntime: "fake"}
	for _, c := range b.containers {
		if c.state == "running" {
			i.ContainersRunning++
		} else {
			i.ContainersStopped++
		}
	}
	return i, nil
}

// DiskUsage implements dockerapi.SystemBackend.
func (b *Backend) DiskUsage(ctx context.Context) (dockerapi.DiskUsage, error) {
	imgs, _ := b.ImageList(ctx, dockerapi.ImageListOptions{All: true})
	ctrs, _ := b.ContainerList(ctx, dockerapi.ContainerListOptions{All: true})
	vols, _ := b.VolumeList(ctx, nil)
	du := dockerapi.DiskUsage{Images: imgs, Containers: ctrs, Volumes: vols}
	for _, i := range imgs {
		du.LayersSize += i.Size
	}
	return du, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func now() time.Time { return time.Now().UTC() }

func trimSlash(s string) string { return strings.TrimPrefix(s, "/") }
