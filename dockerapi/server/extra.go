package server

import (
	"fmt"
	"net/http"
	"strings"
)

// ExtraPrefix is where routes of reconciler's own live beside the Docker
// Engine API: Docker has no path under it, so the two cannot clash.
const ExtraPrefix = "/reconciler/"

// Handle serves h on pattern, "METHOD /reconciler/...", beside the Docker
// API (the daemon's controller status, for one). Such routes get the same
// request log and metrics as Docker's, under their pattern; "{name}" and
// "{name...}" segments match as in Docker's routes. Routes must be added
// before Serve: Handle panics on a pattern outside ExtraPrefix, without a
// method, or after serving started, as http.ServeMux does on bad patterns.
func (s *Server) Handle(pattern string, h http.Handler) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || method == "" || !strings.HasPrefix(path, ExtraPrefix) {
		panic(fmt.Sprintf("dockerapi server: Handle(%q): want \"METHOD %s...\"", pattern, ExtraPrefix))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.servers) > 0 || s.closed {
		panic(fmt.Sprintf("dockerapi server: Handle(%q) after Serve", pattern))
	}
	s.router.add(method, path, func(w http.ResponseWriter, r *http.Request, _ params) error {
		h.ServeHTTP(w, r)
		return nil
	})
}
