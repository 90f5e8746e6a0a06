package server

import (
	"net/http"

	"github.com/moby/moby/api/types/volume"
	"github.com/moby/moby/client/pkg/versions"
)

func (s *Server) volumeCreate(w http.ResponseWriter, r *http.Request, _ params) error {
	var req volume.CreateRequest
	if r.ContentLength != 0 {
		if err := decodeBody(r, &req); err != nil {
			return err
		}
	}
	v, err := s.backend.VolumeCreate(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (s *Server) volumeList(w http.ResponseWriter, r *http.Request, _ params) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	list, err := s.backend.VolumeList(r.Context(), f)
	if err != nil {
		return err
	}
	if list == nil {
		list = []volume.Volume{}
	}
	writeJSON(w, http.StatusOK, volume.ListResponse{Volumes: list})
	return nil
}

func (s *Server) volumeRemove(w http.ResponseWriter, r *http.Request, p params) error {
	if err := s.backend.VolumeRemove(r.Context(), p["name"], boolValue(r, "force")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) volumesPrune(w http.ResponseWriter, r *http.Request, _ params) error {
	f, err := filters(r)
	if err != nil {
		return err
	}
	// Before API 1.42 prune took named volumes too, and clients of those
	// versions cannot ask for it (dockerd adds all=true the same way).
	if len(f["all"]) == 0 && versions.LessThan(apiVersion(r), "1.42") {
		f.Add("all", "true")
	}
	rep, err := s.backend.VolumesPrune(r.Context(), f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}
