// Package bench holds the benchmarks that compare the reconciler binary
// with its peers installed on the same machine (Debian's dockerd and the
// docker CLI), measured in the same run, and (in report/) the generator of
// the table `make bench` prints and writes to bench/RESULTS.md.
//
// Each benchmark reports our time and the peer's as custom metrics
// (ours-ms, docker-ms, ...) and their ratio as ratio-vs-docker: the
// peer's time divided by ours, so 10 means ten times faster than docker.
// A missing peer is logged and its metrics are left out; ours are
// still measured.
package bench
