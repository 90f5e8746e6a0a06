package server

import (
	"net/http"

	"github.com/moby/moby/api/types/common"
	"github.com/moby/moby/api/types/container"

	"github.com/reconciler/reconciler/dockerapi"
)

func (s *Server) execCreate(w http.ResponseWriter, r *http.Request, p params) error {
	var req container.ExecCreateRequest
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if len(req.Cmd) == 0 {
		return errorf("No exec command specified")
	}
	id, err := s.backend.ExecCreate(r.Context(), p["id"], req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, common.IDResponse{ID: id})
	return nil
}

func (s *Server) execStart(w http.ResponseWriter, r *http.Request, p params) error {
	var req container.ExecStartRequest
	if r.ContentLength != 0 {
		if err := decodeBody(r, &req); err != nil {
			return err
		}
	}
	ex, err := s.backend.ExecInspect(r.Context(), p["id"])
	if err != nil {
		return err
	}
	if req.Detach {
		if err := s.backend.ExecStart(r.Context(), p["id"], dockerapi.ExecStartOptions{Detach: true, Tty: req.Tty, ConsoleSize: req.ConsoleSize}); err != nil {
			return err
		}
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(http.StatusOK)
		return nil
	}
	tty := req.Tty || (ex.ProcessConfig != nil && ex.ProcessConfig.Tty)
	h, err := s.startHijack(w, r, tty)
	if err != nil {
		return err
	}
	defer h.close()
	ctx, cancel := s.hijackCtx(r)
	defer cancel()
	opts := dockerapi.ExecStartOptions{Tty: tty, ConsoleSize: req.ConsoleSize, Started: h.upgrade}
	opts.Stdout, opts.Stderr = outputs(h, tty, ex.OpenStdout, ex.OpenStderr)
	if ex.OpenStdin {
		opts.Stdin = h
	}
	if err := s.backend.ExecStart(ctx, p["id"], opts); err != nil {
		h.fail(err)
	}
	return nil
}
