package fakebackend

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/events"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/engine"
)

// ContainerRename implements dockerapi.ContainerBackend, with dockerd's
// errors and its rename event.
func (b *Backend) ContainerRename(ctx context.Context, ref, name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.lookup(ref)
	if err != nil {
		return err
	}
	name = trimSlash(name)
	switch {
	case name == "":
		return fmt.Errorf("%w: Neither old nor new names may be empty", engine.ErrInvalid)
	case !validName.MatchString(name):
		return fmt.Errorf("%w: Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed", engine.ErrInvalid, name)
	case name == c.name:
		return fmt.Errorf("%w: Renaming a container with the same name as its current name", engine.ErrInvalid)
	}
	if err := b.nameFree(name); err != nil {
		return err
	}
	old := c.name
	c.name = name
	b.containerEvent(c, events.ActionRename, map[string]string{"oldName": "/" + old})
	return nil
}

// nameFree fails with dockerd's conflict when a container holds name;
// b.mu is held.
func (b *Backend) nameFree(name string) error {
	for _, o := range b.containers {
		if o.name == name {
			return fmt.Errorf("%w: Conflict. The container name \"/%s\" is already in use by container \"%s\". You have to remove (or rename) that container to be able to reuse that name.", engine.ErrConflict, name, o.id)
		}
	}
	return nil
}

// ContainerTop implements dockerapi.ContainerBackend. A fake container's
// program is a goroutine, not a process: the table has one row, its
// command, in the columns of ps -ef; other ps arguments are refused.
func (b *Backend) ContainerTop(ctx context.Context, ref, psArgs string) (container.TopResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.lookup(ref)
	if err != nil {
		return container.TopResponse{}, err
	}
	if c.state != "running" {
		return container.TopResponse{}, fmt.Errorf("%w: Container %s is not running", engine.ErrConflict, c.id)
	}
	if psArgs != "" && psArgs != "-ef" {
		return container.TopResponse{}, fmt.Errorf("ps: the fake engine runs no ps: only -ef is supported, not %q", psArgs)
	}
	cmd := strings.Join(append(append([]string{}, c.cfg.Entrypoint...), c.cfg.Cmd...), " ")
	return container.TopResponse{
		Titles:    []string{"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"},
		Processes: [][]string{{"root", "1", "0", "0", c.started.Format("15:04"), "?", "00:00:00", cmd}},
	}, nil
}

// ContainerStats implements dockerapi.ContainerBackend. Fake programs use
// no measurable resources: every sample is dockerd's zeroed one (name and
// ID), stamped with the time when the container runs.
func (b *Backend) ContainerStats(ctx context.Context, ref string, o dockerapi.StatsOptions, send func(container.StatsResponse) error) error {
	for {
		b.mu.Lock()
		c, err := b.lookup(ref)
		var st container.StatsResponse
		if err == nil {
			st = container.StatsResponse{Name: "/" + c.name, ID: c.id}
			if c.state == "running" {
				st.Read = now()
			}
		}
		b.mu.Unlock()
		if err != nil {
			return err
		}
		if err := send(st); err != nil || !o.Stream {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
}

// ContainerUpdate implements dockerapi.ContainerBackend: the limits and
// policy given are recorded (inspect shows them); there is no cgroup.
func (b *Backend) ContainerUpdate(ctx context.Context, ref string, u dockerapi.UpdateConfig) (container.UpdateResponse, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	c, err := b.lookup(ref)
	if err != nil {
		return container.UpdateResponse{}, err
	}
	if u.Memory != 0 {
		c.host.Memory = u.Memory
	}
	if u.NanoCPUs != 0 {
		c.host.NanoCPUs = u.NanoCPUs
	}
	if u.PidsLimit != nil {
		c.host.PidsLimit = u.PidsLimit
	}
	if u.RestartPolicy.Name != "" {
		c.host.RestartPolicy = u.RestartPolicy
	}
	b.containerEvent(c, events.ActionUpdate, nil)
	return container.UpdateResponse{Warnings: []string{}}, nil
}
