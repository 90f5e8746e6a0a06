package server

import (
	"net/http"
	"strconv"
)

// The docker CLI sends these right after start (and on SIGWINCH) for a
// container or exec with a terminal, and ignores the answer
// (docker-api-contract.md §5, TTY sizing). 200 with an empty body, as
// dockerd answers.

func (s *Server) containerResize(w http.ResponseWriter, r *http.Request, p params) error {
	h, wd, err := consoleSize(r)
	if err != nil {
		return err
	}
	if err := s.backend.ContainerResize(r.Context(), p["id"], h, wd); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Server) execResize(w http.ResponseWriter, r *http.Request, p params) error {
	h, wd, err := consoleSize(r)
	if err != nil {
		return err
	}
	if err := s.backend.ExecResize(r.Context(), p["id"], h, wd); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// consoleSize reads ?h=&w=: both are needed and must fit a terminal.
func consoleSize(r *http.Request) (height, width uint, err error) {
	q := r.URL.Query()
	h, herr := strconv.ParseUint(q.Get("h"), 10, 16)
	wd, werr := strconv.ParseUint(q.Get("w"), 10, 16)
	if herr != nil || werr != nil {
		return 0, 0, errorf("resize: h=%q and w=%q must be numbers from 0 to 65535", q.Get("h"), q.Get("w"))
	}
	return uint(h), uint(wd), nil
}
