// Package testutil holds the few helpers that the tests of many packages
// need alike: a buffer safe to read while a goroutine writes it, polling
// until a condition holds, skips for tests that need root or busybox, and a
// busybox build context.
//
// Only tests (and test-support packages such as dockerapi/clitest) import
// it, by convention; keep it small and free of project imports so that any
// package's tests can use it without an import cycle.
package testutil
