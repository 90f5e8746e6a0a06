//go:build !amd64 && !arm64

package nsinit

// arches is empty on ports without a table: no filter is installed.
var arches []arch
