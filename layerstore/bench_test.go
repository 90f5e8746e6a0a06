package layerstore

import (
	"bytes"
	"context"
	"fmt"
	"testing"
)

// BenchmarkAddLayer adds small distinct layers (a build's COPY step).
func BenchmarkAddLayer(b *testing.B) {
	s := openStore(b)
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		t := tarOf(b, [2]string{"app/", ""}, [2]string{fmt.Sprintf("app/f%d", i), "content"})
		if _, err := s.AddLayer(ctx, "", bytes.NewReader(t), ""); err != nil {
			b.Fatal(err)
		}
	}
}
