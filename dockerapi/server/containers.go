package server

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/moby/moby/api/types/common"
	"github.com/moby/moby/api/types/container"

	"github.com/reconciler/reconciler/dockerapi"
)

func (s *Server) containerList(w http.ResponseWriter, r *http.Request, _ params) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	opts := dockerapi.ContainerListOptions{All: boolValue(r, "all"), Size: boolValue(r, "size"), Filters: f}
	if v := r.URL.Query().Get("limit"); v != "" {
		if opts.Limit, err = strconv.Atoi(v); err != nil {
			return errorf("invalid limit %q", v)
		}
	}
	list, err := s.backend.ContainerList(r.Context(), opts)
	if err != nil {
		return err
	}
	if list == nil {
		list = []container.Summary{}
	}
	writeJSON(w, http.StatusOK, list)
	return nil
}

func (s *Server) containerCreate(w http.ResponseWriter, r *http.Request, _ params) error {
	var req container.CreateRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if req.Config == nil {
		return errorf("config cannot be empty in order to create a container")
	}
	if req.HostConfig == nil {
		req.HostConfig = &container.HostConfig{}
	}
	resp, err := s.backend.ContainerCreate(r.Context(), dockerapi.ContainerCreateConfig{
		Name: r.URL.Query().Get("name"), Config: req.Config, HostConfig: req.HostConfig, NetworkingConfig: req.NetworkingConfig,
	})
	if err != nil {
		return err
	}
	if resp.Warnings == nil {
		resp.Warnings = []string{}
	}
	writeJSON(w, http.StatusCreated, resp)
	return nil
}

func (s *Server) containerStart(w http.ResponseWriter, r *http.Request, p params) error {
	if err := s.backend.ContainerStart(r.Context(), p["id"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func stopOptions(r *http.Request) (dockerapi.StopOptions, error) {
	o := dockerapi.StopOptions{Signal: r.URL.Query().Get("signal")}
	if v := r.URL.Query().Get("t"); v != "" {
		t, err := strconv.Atoi(v)
		if err != nil {
			return o, errorf("invalid stop timeout t=%q: want whole seconds", v)
		}
		o.Timeout = &t
	}
	return o, nil
}

func (s *Server) containerStop(w http.ResponseWriter, r *http.Request, p params) error {
	o, err := stopOptions(r)
	if err != nil {
		return err
	}
	if err := s.backend.ContainerStop(r.Context(), p["id"], o); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) containerRestart(w http.ResponseWriter, r *http.Request, p params) error {
	o, err := stopOptions(r)
	if err != nil {
		return err
	}
	if err := s.backend.ContainerRestart(r.Context(), p["id"], o); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) containerKill(w http.ResponseWriter, r *http.Request, p params) error {
	if err := s.backend.ContainerKill(r.Context(), p["id"], r.URL.Query().Get("signal")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// containerWait sends the headers at once and the body when the condition
// is met: the docker CLI waits for these headers before it sends start
// (docker-api-contract.md gotcha 2).
func (s *Server) containerWait(w http.ResponseWriter, r *http.Request, p params) error {
	cond := container.WaitCondition(r.URL.Query().Get("condition"))
	switch cond {
	case "":
		cond = container.WaitConditionNotRunning
	case container.WaitConditionNotRunning, container.WaitConditionNextExit, container.WaitConditionRemoved:
	default:
		return errorf("invalid condition %q: want not-running, next-exit or removed", cond)
	}
	ctx, cancel := s.streamCtx(r)
	defer cancel()
	ch, err := s.backend.ContainerWait(ctx, p["id"], cond)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	flush(w)
	select {
	case resp, ok := <-ch:
		if !ok {
			return nil
		}
		json.NewEncoder(w).Encode(resp) // the client may be gone (run -d): ignore
	case <-ctx.Done():
	}
	return nil
}

func (s *Server) containerLogs(w http.ResponseWriter, r *http.Request, p params) error {
	q := r.URL.Query()
	wantOut, wantErr := boolValue(r, "stdout"), boolValue(r, "stderr")
	if !wantOut && !wantErr {
		return errorf("Bad parameters: you must choose at least one stream")
	}
	opts := dockerapi.LogsOptions{Follow: boolValue(r, "follow"), Timestamps: boolValue(r, "timestamps"), Tail: -1}
	if v := q.Get("tail"); v != "" && v != "all" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return errorf("invalid tail %q: want a number of lines or all", v)
		}
		opts.Tail = n
	}
	var err error
	if opts.Since, err = parseTimestamp(q.Get("since")); err != nil {
		return err
	}
	if opts.Until, err = parseTimestamp(q.Get("until")); err != nil {
		return err
	}
	c, err := s.backend.ContainerInspect(r.Context(), p["id"])
	if err != nil {
		return err
	}
	tty := c.Config != nil && c.Config.Tty
	lw := &lazyWriter{w: w}
	lw.Start()
	stdout, stderr := outputs(lw, tty, wantOut, wantErr)
	ctx, cancel := s.streamCtx(r)
	defer cancel()
	return s.backend.ContainerLogs(ctx, c.ID, opts, stdout, stderr)
}

// containerAttach validates the container before taking over the
// connection: once hijacked, only a bare status reaches the CLI.
func (s *Server) containerAttach(w http.ResponseWriter, r *http.Request, p params) error {
	c, err := s.backend.ContainerInspect(r.Context(), p["id"])
	if err != nil {
		return err
	}
	tty := c.Config != nil && c.Config.Tty
	h, err := s.startHijack(w, r, tty)
	if err != nil {
		return err
	}
	defer h.close()
	ctx, cancel := s.hijackCtx(r)
	defer cancel()
	opts := dockerapi.AttachOptions{
		Logs: boolValue(r, "logs"), Stream: boolValue(r, "stream"), DetachKeys: r.URL.Query().Get("detachKeys"),
		Attached: h.upgrade,
	}
	opts.Stdout, opts.Stderr = outputs(h, tty, boolValue(r, "stdout"), boolValue(r, "stderr"))
	if boolValue(r, "stdin") {
		opts.Stdin = h
	}
	if err := s.backend.ContainerAttach(ctx, c.ID, opts); err != nil {
		h.fail(err)
	}
	return nil
}

func (s *Server) containerRemove(w http.ResponseWriter, r *http.Request, p params) error {
	if err := s.backend.ContainerRemove(r.Context(), p["id"], dockerapi.RemoveOptions{Force: boolValue(r, "force"), RemoveVolumes: boolValue(r, "v")}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) containersPrune(w http.ResponseWriter, r *http.Request, _ params) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	rep, err := s.backend.ContainersPrune(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (s *Server) commit(w http.ResponseWriter, r *http.Request, _ params) error {
	q := r.URL.Query()
	ref := q.Get("container")
	if ref == "" {
		return errorf("no container given: commit?container=NAME")
	}
	opts := dockerapi.CommitOptions{
		Repo: q.Get("repo"), Tag: q.Get("tag"), Author: q.Get("author"), Comment: q.Get("comment"),
		Changes: q["changes"], Pause: boolDefault(r, "pause", true),
	}
	if r.ContentLength != 0 {
		var cfg container.Config
		switch err := json.NewDecoder(r.Body).Decode(&cfg); {
		case err == nil:
			opts.Config = &cfg
		case !errors.Is(err, io.EOF):
			return errorf("invalid JSON body: %v", err)
		}
	}
	id, err := s.backend.ContainerCommit(r.Context(), ref, opts)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, common.IDResponse{ID: id})
	return nil
}
