package server

import (
	"net/http"
)

// noNetworks is why networks cannot be made, removed or joined.
const noNetworks = "this engine has only the host and none networks (docker run --network host or --network none) and cannot create, remove, connect or disconnect networks"

func (s *Server) networkCreate(http.ResponseWriter, *http.Request, params) error {
	return errorf("docker network create: %s", noNetworks)
}

// networkChange refuses DELETE, connect and disconnect of a network that
// exists (a missing one is a 404, as in dockerd).
func (s *Server) networkChange(_ http.ResponseWriter, r *http.Request, p params) error {
	n, err := s.backend.NetworkInspect(r.Context(), p["id"])
	if err != nil {
		return err
	}
	return errorf("%s is a pre-defined network: %s", n.Name, noNetworks)
}
