// Package fake is an in-memory engine.Engine for tests: containers, images
// and volumes live in maps, every change emits an event like Docker's, and
// every call is counted so a test can assert that a no-op touched nothing.
//
// It is faithful where the controller depends on behaviour: names are
// unique (ErrConflict), a container needs its image and volumes to exist
// (ErrNotFound), a running container is not removed without force, and a
// volume in use by any container is not removed (ErrConflict). Tests can
// change state behind the controller's back (Kill, Delete, Exit) and inject
// failures (FailNext).
package fake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/reconciler/reconciler/engine"
)

// Engine is the in-memory engine. The zero value is not usable; call New.
type Engine struct {
	mu         sync.Mutex
	seq        int
	containers map[string]*container            // by ID
	byName     map[string]map[string]*container // io.reconciler.name label -> ID -> container
	images     map[string]*image                // by ID
	tags       map[string]string                // tag -> image ID
	volumes    map[string]*engine.Volume
	calls      map[string]int
	failures   map[string][]error
	subs       map[int]chan engine.Event
	subSeq     int
	buildSalt  map[string]string // context dir -> salt, changes a build's image ID
	now        func() time.Time
}

type container struct {
	engine.Container
	cfg engine.ContainerConfig
}

type image struct {
	engine.Image
}

// New returns an empty engine.
func New() *Engine {
	return &Engine{
		containers: map[string]*container{},
		byName:     map[string]map[string]*container{},
		images:     map[string]*image{},
		tags:       map[string]string{},
		volumes:    map[string]*engine.Volume{},
		calls:      map[string]int{},
		failures:   map[string][]error{},
		subs:       map[int]chan engine.Event{},
		buildSalt:  map[string]string{},
		now:        time.Now,
	}
}

var _ engine.Engine = (*Engine)(nil)

// Calls returns how often each method was called, by method name
// ("CreateContainer", "StartContainer", ...).
func (e *Engine) Calls() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.calls)
}

// Mutations counts calls that change state (everything but listing,
// inspecting and events).
func (e *Engine) Mutations() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 0
	for name, c := range e.calls {
		switch name {
		case "Containers", "Images", "Volumes", "InspectImage", "Events":
		default:
			n += c
		}
	}
	return n
}

// ResetCalls zeroes the call counters.
func (e *Engine) ResetCalls() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.calls = map[string]int{}
}

// FailNext makes the next call of method return err (queued: several
// calls fail in order).
func (e *Engine) FailNext(method string, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.failures[method] = append(e.failures[method], err)
}

// ClearFailures drops the failures FailNext queued and no call took.
func (e *Engine) ClearFailures() {
	e.mu.Lock()
	defer e.mu.Unlock()
	clear(e.failures)
}

// enter counts a call and returns an injected failure, if any. Call with
// e.mu held.
func (e *Engine) enter(method string) error {
	e.calls[method]++
	if q := e.failures[method]; len(q) > 0 {
		e.failures[method] = q[1:]
		return q[0]
	}
	return nil
}

func (e *Engine) newID(parts ...string) string {
	e.seq++
	h := sha256.Sum256([]byte(fmt.Sprint(e.seq, parts)))
	return hex.EncodeToString(h[:])
}

// emit sends an event to every subscriber. Call with e.mu held; a slow
// subscriber loses events rather than blocking the engine, like a real
// event stream with a bounded buffer.
func (e *Engine) emit(typ, action, id string, labels map[string]string) {
	ev := engine.Event{Type: typ, Action: action, ID: id, Labels: maps.Clone(labels), Time: e.now()}
	for _, ch := range e.subs {
		select {
		case ch <- ev:
		default:
		}
	}
}

func hasLabels(have, want map[string]string) bool {
	for k, v := range want {
		if hv, ok := have[k]; !ok || hv != v {
			return false
		}
	}
	return true
}

// Events streams events until ctx ends; the error channel is closed then.
func (e *Engine) Events(ctx context.Context) (<-chan engine.Event, <-chan error) {
	e.mu.Lock()
	e.calls["Events"]++
	ch := make(chan engine.Event, 1024)
	errc := make(chan error, 1)
	e.subSeq++
	id := e.subSeq
	e.subs[id] = ch
	e.mu.Unlock()
	go func() {
		<-ctx.Done()
		e.mu.Lock()
		delete(e.subs, id)
		e.mu.Unlock()
		errc <- ctx.Err()
		close(errc)
	}()
	return ch, errc
}

// Containers lists containers carrying every label given, oldest first.
func (e *Engine) Containers(ctx context.Context, labels map[string]string) ([]engine.Container, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enter("Containers"); err != nil {
		return nil, err
	}
	candidates := e.containers
	if n, ok := labels[engine.LabelName]; ok {
		candidates = e.byName[n]
	}
	out := make([]engine.Container, 0, len(candidates))
	for _, c := range candidates {
		if hasLabels(c.Labels, labels) {
			cc := c.Container
			cc.Labels = maps.Clone(c.Labels)
			out = append(out, cc)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Created.Before(out[j].Created) || (out[i].Created.Equal(out[j].Created) && out[i].ID < out[j].ID)
	})
	return out, nil
}

// ContainerConfig returns the config a container was created with.
func (e *Engine) ContainerConfig(nameOrID string) (engine.ContainerConfig, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.lookup(nameOrID)
	if c == nil {
		return engine.ContainerConfig{}, false
	}
	return c.cfg, true
}

// named finds the container called name, if any. Call with e.mu held.
func (e *Engine) named(name string) *container {
	for _, c := range e.containers {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// lookup finds a container by ID, unique ID prefix or name. Call with e.mu held.
func (e *Engine) lookup(ref string) *container {
	if c, ok := e.containers[ref]; ok {
		return c
	}
	var found *container
	for _, c := range e.containers {
		if c.Name == ref {
			return c
		}
		if len(ref) >= 4 && strings.HasPrefix(c.ID, ref) {
			found = c
		}
	}
	return found
}

// CreateContainer creates a container in state "created".
func (e *Engine) CreateContainer(ctx context.Context, cfg engine.ContainerConfig) (string, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enter("CreateContainer"); err != nil {
		return "", err
	}
	if cfg.Name == "" {
		return "", fmt.Errorf("create container: %w: empty name", engine.ErrInvalid)
	}
	if c := e.named(cfg.Name); c != nil {
		return "", fmt.Errorf("create container %q: %w: the name is in use by container %s", cfg.Name, engine.ErrConflict, c.ID[:12])
	}
	img := e.resolveImage(cfg.Image)
	if img == nil {
		return "", fmt.Errorf("create container %q: image %q: %w", cfg.Name, cfg.Image, engine.ErrNotFound)
	}
	for _, m := range cfg.Mounts {
		if m.Type == engine.MountVolume {
			if _, ok := e.volumes[m.Source]; !ok {
				return "", fmt.Errorf("create container %q: volume %q: %w", cfg.Name, m.Source, engine.ErrNotFound)
			}
		}
	}
	cfg.Labels = maps.Clone(cfg.Labels)
	cfg.Mounts = append([]engine.Mount(nil), cfg.Mounts...)
	id := e.newID("container", cfg.Name)
	c := &container{
		Container: engine.Container{
			ID: id, Name: cfg.Name, Image: cfg.Image, ImageID: img.ID,
			Labels: cfg.Labels, State: engine.StateCreated, Created: e.now(),
		},
		cfg: cfg,
	}
	e.containers[id] = c
	n := c.Labels[engine.LabelName]
	if e.byName[n] == nil {
		e.byName[n] = map[string]*container{}
	}
	e.byName[n][id] = c
	e.emit(engine.EventContainer, "create", id, c.Labels)
	return id, nil
}

func (e *Engine) container(method, ref string) (*container, error) {
	if err := e.enter(method); err != nil {
		return nil, err
	}
	c := e.lookup(ref)
	if c == nil {
		return nil, fmt.Errorf("container %q: %w", ref, engine.ErrNotFound)
	}
	return c, nil
}

// StartContainer moves a container to "running"; starting a running
// container is a no-op, like Docker's 304.
func (e *Engine) StartContainer(ctx context.Context, id string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.container("StartContainer", id)
	if err != nil {
		return err
	}
	if c.State == engine.StateRunning {
		return nil
	}
	c.State = engine.StateRunning
	c.ExitCode = 0
	c.Started = e.now()
	e.emit(engine.EventContainer, "start", c.ID, c.Labels)
	return nil
}

// StopContainer stops a running container (exit code 0, as after a
// graceful stop); stopping a stopped container is a no-op.
func (e *Engine) StopContainer(ctx context.Context, id string, grace time.Duration) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.container("StopContainer", id)
	if err != nil {
		return err
	}
	if c.State != engine.StateRunning {
		return nil
	}
	e.exit(c, 0)
	e.emit(engine.EventContainer, "stop", c.ID, c.Labels)
	return nil
}

func (e *Engine) exit(c *container, code int) {
	c.State = engine.StateExited
	c.ExitCode = code
	e.emit(engine.EventContainer, "die", c.ID, c.Labels)
}

// RemoveContainer removes a container; a running one only with force.
func (e *Engine) RemoveContainer(ctx context.Context, id string, force bool) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.container("RemoveContainer", id)
	if err != nil {
		return err
	}
	if c.State == engine.StateRunning {
		if !force {
			return fmt.Errorf("remove container %s: %w: it is running; stop it first or force", c.Name, engine.ErrConflict)
		}
		e.exit(c, 137)
	}
	e.forget(c)
	e.emit(engine.EventContainer, "destroy", c.ID, c.Labels)
	return nil
}

// RenameContainer gives a container a name no other container has.
func (e *Engine) RenameContainer(ctx context.Context, id, name string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	c, err := e.container("RenameContainer", id)
	if err != nil {
		return err
	}
	if o := e.named(name); o != nil && o != c {
		return fmt.Errorf("rename container %s to %q: %w: the name is in use by container %s", c.Name, name, engine.ErrConflict, o.ID[:12])
	}
	c.Name, c.cfg.Name = name, name
	e.emit(engine.EventContainer, "rename", c.ID, c.Labels)
	return nil
}

// Kill makes a running container exit with code behind the controller's
// back, as a crash would.
func (e *Engine) Kill(nameOrID string, code int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.lookup(nameOrID)
	if c == nil {
		return fmt.Errorf("container %q: %w", nameOrID, engine.ErrNotFound)
	}
	if c.State == engine.StateRunning {
		e.exit(c, code)
	}
	return nil
}

// Delete removes a container behind the controller's back, running or not.
func (e *Engine) Delete(nameOrID string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.lookup(nameOrID)
	if c == nil {
		return fmt.Errorf("container %q: %w", nameOrID, engine.ErrNotFound)
	}
	if c.State == engine.StateRunning {
		e.exit(c, 137)
	}
	e.forget(c)
	e.emit(engine.EventContainer, "destroy", c.ID, c.Labels)
	return nil
}

// SetState puts a container in a state with an exit code and restart
// count, as an engine's restart policy would (StateRestarting between
// crashes), without emitting events.
func (e *Engine) SetState(nameOrID, state string, exitCode, restarts int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c := e.lookup(nameOrID); c != nil {
		c.State, c.ExitCode, c.Restarts = state, exitCode, restarts
	}
}

// SetRestarts sets a container's restart count, as an engine's restart
// policy would have.
func (e *Engine) SetRestarts(nameOrID string, n int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if c := e.lookup(nameOrID); c != nil {
		c.Restarts = n
	}
}

// imageID derives a stable image ID from its source, so ensuring the same
// source twice yields the same ID and a changed source a new one.
func (e *Engine) imageID(src engine.ImageSource) string {
	s := src
	s.Tag = ""
	s.Labels = nil
	b, _ := json.Marshal(s)
	salt := ""
	if src.Build != nil {
		salt = e.buildSalt[src.Build.Context]
	}
	h := sha256.Sum256(append(b, salt...))
	return "sha256:" + hex.EncodeToString(h[:])
}

// Rebuild makes the next build of contextDir produce a different image
// ID, as an edited file in a build context would.
func (e *Engine) Rebuild(contextDir string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.buildSalt[contextDir] += "+"
}

// AddImage makes an image with the given tags present, as a pull or load
// done outside the controller would; it returns the image ID.
func (e *Engine) AddImage(tags ...string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	id := "sha256:" + e.newID(tags...)
	e.images[id] = &image{Image: engine.Image{ID: id, Created: e.now()}}
	for _, t := range tags {
		e.tag(normalizeTag(t), id)
	}
	return id
}

func normalizeTag(t string) string {
	t = strings.TrimPrefix(t, "docker.io/library/")
	if i := strings.LastIndex(t, ":"); i < 0 || strings.Contains(t[i:], "/") {
		t += ":latest"
	}
	return t
}

// tag points t at id, moving it off any other image. Call with e.mu held.
func (e *Engine) tag(t, id string) {
	if old, ok := e.tags[t]; ok && old != id {
		if oi := e.images[old]; oi != nil {
			oi.RepoTags = remove(oi.RepoTags, t)
			e.emit(engine.EventImage, "untag", old, oi.Labels)
		}
	}
	e.tags[t] = id
	img := e.images[id]
	if !contains(img.RepoTags, t) {
		img.RepoTags = append(img.RepoTags, t)
		sort.Strings(img.RepoTags)
	}
	e.emit(engine.EventImage, "tag", id, img.Labels)
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func remove(s []string, v string) []string {
	out := s[:0]
	for _, x := range s {
		if x != v {
			out = append(out, x)
		}
	}
	return out
}

// resolveImage finds an image by tag or ID. Call with e.mu held.
func (e *Engine) resolveImage(ref string) *image {
	if img, ok := e.images[ref]; ok {
		return img
	}
	if id, ok := e.tags[normalizeTag(ref)]; ok {
		return e.images[id]
	}
	if strings.HasPrefix(ref, "sha256:") && len(ref) >= 11 {
		for id, img := range e.images {
			if strings.HasPrefix(id, ref) {
				return img
			}
		}
	}
	return nil
}

// EnsureImage makes the image of src present under src.Tag. The same
// source yields the same ID (an unchanged build is a cache hit).
func (e *Engine) EnsureImage(ctx context.Context, src engine.ImageSource, progress io.Writer) (engine.Image, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enter("EnsureImage"); err != nil {
		return engine.Image{}, err
	}
	n := 0
	for _, set := range []bool{src.Build != nil, src.Import != nil, src.Pull != nil} {
		if set {
			n++
		}
	}
	if n != 1 || src.Tag == "" {
		return engine.Image{}, fmt.Errorf("ensure image %q: %w: want a tag and exactly one of build, import, pull", src.Tag, engine.ErrInvalid)
	}
	id := e.imageID(src)
	img, ok := e.images[id]
	if !ok {
		img = &image{Image: engine.Image{ID: id, Labels: maps.Clone(src.Labels), Created: e.now(), Size: 1 << 20}}
		e.images[id] = img
		if progress != nil {
			fmt.Fprintf(progress, "built %s\n", id[:19])
		}
	} else {
		img.Labels = maps.Clone(src.Labels)
	}
	e.tag(normalizeTag(src.Tag), id)
	return e.copyImage(img), nil
}

func (e *Engine) copyImage(img *image) engine.Image {
	out := img.Image
	out.RepoTags = append([]string(nil), img.RepoTags...)
	out.Labels = maps.Clone(img.Labels)
	return out
}

// labeled copies the objects of m (images by ID, volumes by name) that
// carry every label given, in key order.
func labeled[T, V any](m map[string]*T, labels map[string]string, labelsOf func(*T) map[string]string, copyOf func(*T) V) []V {
	var out []V
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if hasLabels(labelsOf(m[k]), labels) {
			out = append(out, copyOf(m[k]))
		}
	}
	return out
}

// Images lists images carrying every label given.
func (e *Engine) Images(ctx context.Context, labels map[string]string) ([]engine.Image, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enter("Images"); err != nil {
		return nil, err
	}
	return labeled(e.images, labels, func(img *image) map[string]string { return img.Labels }, e.copyImage), nil
}

// InspectImage resolves a tag or ID.
func (e *Engine) InspectImage(ctx context.Context, ref string) (engine.Image, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enter("InspectImage"); err != nil {
		return engine.Image{}, err
	}
	img := e.resolveImage(ref)
	if img == nil {
		return engine.Image{}, fmt.Errorf("image %q: %w", ref, engine.ErrNotFound)
	}
	return e.copyImage(img), nil
}

// RemoveImage untags a tag reference, deleting the image when no tag is
// left; an ID removes the image. An image used by a container is refused.
func (e *Engine) RemoveImage(ctx context.Context, ref string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enter("RemoveImage"); err != nil {
		return err
	}
	img := e.resolveImage(ref)
	if img == nil {
		return fmt.Errorf("image %q: %w", ref, engine.ErrNotFound)
	}
	if !strings.HasPrefix(ref, "sha256:") && len(img.RepoTags) > 1 {
		t := normalizeTag(ref)
		img.RepoTags = remove(img.RepoTags, t)
		delete(e.tags, t)
		e.emit(engine.EventImage, "untag", img.ID, img.Labels)
		return nil
	}
	for _, c := range e.containers {
		if c.ImageID == img.ID {
			return fmt.Errorf("remove image %q: %w: used by container %s", ref, engine.ErrConflict, c.Name)
		}
	}
	for _, t := range img.RepoTags {
		delete(e.tags, t)
	}
	delete(e.images, img.ID)
	e.emit(engine.EventImage, "delete", img.ID, img.Labels)
	return nil
}

// EnsureVolume creates a volume if absent; an existing one is returned as is.
func (e *Engine) EnsureVolume(ctx context.Context, v engine.VolumeConfig) (engine.Volume, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enter("EnsureVolume"); err != nil {
		return engine.Volume{}, err
	}
	if v.Name == "" {
		return engine.Volume{}, fmt.Errorf("ensure volume: %w: empty name", engine.ErrInvalid)
	}
	if old, ok := e.volumes[v.Name]; ok {
		return copyVolume(old), nil
	}
	driver := v.Driver
	if driver == "" {
		driver = "local"
	}
	vol := &engine.Volume{Name: v.Name, Driver: driver, Mountpoint: "/fake/volumes/" + v.Name + "/_data", Labels: maps.Clone(v.Labels), CreatedAt: e.now()}
	e.volumes[v.Name] = vol
	e.emit(engine.EventVolume, "create", v.Name, vol.Labels)
	return copyVolume(vol), nil
}

func copyVolume(v *engine.Volume) engine.Volume {
	out := *v
	out.Labels = maps.Clone(v.Labels)
	return out
}

// Volumes lists volumes carrying every label given, by name.
func (e *Engine) Volumes(ctx context.Context, labels map[string]string) ([]engine.Volume, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enter("Volumes"); err != nil {
		return nil, err
	}
	return labeled(e.volumes, labels, func(v *engine.Volume) map[string]string { return v.Labels }, copyVolume), nil
}

// RemoveVolume removes a volume no container (in any state) mounts.
func (e *Engine) RemoveVolume(ctx context.Context, name string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.enter("RemoveVolume"); err != nil {
		return err
	}
	v, ok := e.volumes[name]
	if !ok {
		return fmt.Errorf("volume %q: %w", name, engine.ErrNotFound)
	}
	var users []string
	for _, c := range e.containers {
		for _, m := range c.cfg.Mounts {
			if m.Type == engine.MountVolume && m.Source == name {
				users = append(users, c.Name)
			}
		}
	}
	if len(users) > 0 {
		sort.Strings(users)
		return fmt.Errorf("remove volume %q: %w: in use by container(s) %s", name, engine.ErrConflict, strings.Join(users, ", "))
	}
	delete(e.volumes, name)
	e.emit(engine.EventVolume, "destroy", name, v.Labels)
	return nil
}

// forget drops a container from the maps. Call with e.mu held.
func (e *Engine) forget(c *container) {
	delete(e.containers, c.ID)
	delete(e.byName[c.Labels[engine.LabelName]], c.ID)
}
