package spec

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkDecodeCheck1000 decodes, validates, hashes and checks 1000 containers
// in one file: the cost of one resync of a large folder.
func BenchmarkDecodeCheck1000(b *testing.B) {
	var sb strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&sb, "---\napiVersion: reconciler/v1\nkind: Container\nmetadata: {name: c%04d, labels: {app: bench}}\nspec:\n"+
			"  image: docker.io/library/busybox:1.36\n  env: [{name: IDX, value: \"%d\"}]\n  resources: {memory: 64Mi, cpus: \"0.5\"}\n", i, i)
	}
	data := []byte(sb.String())
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		objs, err := Decode("bench.yaml", data)
		if err != nil || len(objs) != 1000 {
			b.Fatal(len(objs), err)
		}
		if err := Check(objs); err != nil {
			b.Fatal(err)
		}
	}
}
