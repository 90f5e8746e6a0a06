// Package dockerapi is the Docker Engine API seam of the reconciler: the
// Backend interface that a container engine implements to be served over
// the API, the filters the API carries, reference and status helpers, and
// an event bus an engine can publish its events through.
//
// Backend speaks in the Engine API's own types (github.com/moby/moby/api),
// so what an engine returns is exactly the JSON dockerd would send; the
// server only adds the HTTP around it (routes, version negotiation, status
// codes, stream framings, hijacking).
//
// Errors: wrap engine.ErrNotFound (404), engine.ErrConflict (409),
// engine.ErrInvalid (400) or ErrNotModified (304); anything else is a 500.
//
// Subpackages:
//   - server: a Backend over HTTP (the daemon's API), with metrics;
//   - listen: unix, loopback TCP and mutual-TLS listeners;
//   - certs: the CA, server and client certificates of a TLS endpoint;
//   - client: an engine.Engine over the API (our daemon, dockerd, podman);
//   - localbackend: the local engine as a Backend;
//   - fakebackend: an in-memory Backend for tests;
//   - clitest: the real docker CLI driven against an endpoint, as a suite.
package dockerapi
