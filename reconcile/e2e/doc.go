// Package e2e holds the controller's end-to-end tests and benchmarks on the
// real local engine (runtime, layer store and volumes on a temporary state
// root): they need root, overlayfs and Debian's busybox-static, and skip
// with a reason otherwise.
package e2e
