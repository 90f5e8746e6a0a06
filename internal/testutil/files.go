package testutil

import (
	"os"
	"testing"
)

// ReadFile returns the content of the file at p, failing the test if it
// cannot be read.
func ReadFile(t testing.TB, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
