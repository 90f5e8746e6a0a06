package server

import "net/http"

// The handlers of a container's processes and identity: rename, top and
// stats (docker rename, top, stats).

func (s *Server) containerRename(w http.ResponseWriter, r *http.Request, p params) error {
	if err := s.backend.ContainerRename(r.Context(), p["id"], r.URL.Query().Get("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
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
