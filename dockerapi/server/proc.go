package server

import (
	"net/http"

	"github.com/moby/moby/api/types/container"

	"github.com/reconciler/reconciler/dockerapi"
)

// The handlers of a container's processes and identity: rename, top and
// stats (docker rename, top, stats).

func (s *Server) containerRename(w http.ResponseWriter, r *http.Request, p params) error {
	if err := s.backend.ContainerRename(r.Context(), p["id"], r.URL.Query().Get("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) containerUpdate(w http.ResponseWriter, r *http.Request, p params) error {
	var u dockerapi.UpdateConfig
	if err := decodeBody(r, &u); err != nil {
		return err
	}
	resp, err := s.backend.ContainerUpdate(r.Context(), p["id"], u)
	if err != nil {
		return err
	}
	if resp.Warnings == nil {
		resp.Warnings = []string{}
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (s *Server) containerTop(w http.ResponseWriter, r *http.Request, p params) error {
	top, err := s.backend.ContainerTop(r.Context(), p["id"], r.URL.Query().Get("ps_args"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, top)
	return nil
}

// containerStats sends one JSON object per sample, each flushed at once;
// an error before the first is an ordinary error reply (a missing
// container is a 404), one after it just ends the stream, as dockerd's.
func (s *Server) containerStats(w http.ResponseWriter, r *http.Request, p params) error {
	opts := dockerapi.StatsOptions{Stream: boolDefault(r, "stream", true), OneShot: boolValue(r, "one-shot")}
	if opts.Stream && opts.OneShot {
		return errorf("cannot have stream=true and one-shot=true")
	}
	ctx, cancel := s.streamCtx(r)
	defer cancel()
	out := newJSONStream(w)
	err := s.backend.ContainerStats(ctx, p["id"], opts, func(st container.StatsResponse) error { return out.send(st) })
	if err != nil && !out.lw.Started() {
		return err
	}
	out.lw.Start()
	return nil
}
