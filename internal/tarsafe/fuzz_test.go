package tarsafe

import (
	"archive/tar"
	"bytes"
	"context"
	"testing"

	"github.com/reconciler/reconciler/internal/testutil"
)

// FuzzExtract: whatever the archive, nothing is written outside the
// target (run longer with go test -fuzz FuzzExtract ./internal/tarsafe).
func FuzzExtract(f *testing.F) {
	testutil.NeedRoot(f, "chown and mknod")
	seed := func(entries ...entry) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, e := range entries {
			h := e.hdr
			tw.WriteHeader(&h)
			tw.Write([]byte(e.body))
		}
		tw.Close()
		return buf.Bytes()
	}
	f.Add(seed(symlink("a", "/"), file("a/x", "1")))
	f.Add(seed(symlink("a", "../.."), file("a/x", "1")))
	f.Add(seed(dir("d/"), symlink("d/l", "/../outside"), file("d/l/sentinel", "overwrite")))
	f.Add(seed(hardlink("h", "../outside/sentinel")))
	f.Add(seed(file(".wh.x", ""), file("d/.wh..wh..opq", ""), file("/abs/../../x", "1")))
	f.Fuzz(func(t *testing.T, data []byte) {
		base, root := sandbox(t)
		for _, wo := range []bool{false, true} {
			Extract(context.Background(), root, bytes.NewReader(data), Options{OverlayWhiteouts: wo})
			assertNothingOutside(t, base)
		}
	})
}
