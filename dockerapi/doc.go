// Package dockerapi is the Docker Engine API seam of the reconciler: the
// Backend interface that a container engine implements to be served over
// the API (by package dockerapi/server), the filters the API carries, and an
// event bus an engine can publish its events through.
//
// Backend speaks in the Engine API's own types (github.com/moby/moby/api),
// so what an engine returns is exactly the JSON dockerd would send; the
// server only adds the HTTP around it (routes, version negotiation, status
// codes, stream framings, hijacking).
//
// Errors: wrap engine.ErrNotFound (404), engine.ErrConflict (409),
// engine.ErrInvalid (400) or ErrNotModified (304); anything else is a 500.
package dockerapi
