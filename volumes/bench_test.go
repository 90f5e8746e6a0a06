package volumes

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// fillTree writes n small files in folders of 100.
func fillTree(b *testing.B, dir string, n int) {
	b.Helper()
	for i := range n {
		d := filepath.Join(dir, fmt.Sprintf("d%03d", i/100))
		os.MkdirAll(d, 0o755)
		if err := os.WriteFile(filepath.Join(d, fmt.Sprintf("f%d", i)), make([]byte, 100), 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUsage measures the walk behind Usage and the bytes metric.
func BenchmarkUsage(b *testing.B) {
	m, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	v, _ := m.Create(CreateOptions{Name: "data"})
	fillTree(b, v.Mountpoint, 10000)
	b.ResetTimer()
	for b.Loop() {
		if n, err := m.Usage("data"); err != nil || n != 1_000_000 {
			b.Fatalf("Usage = %d, %v", n, err)
		}
	}
}

// BenchmarkCopyUp measures a first mount copying 2000 files.
func BenchmarkCopyUp(b *testing.B) {
	src := b.TempDir()
	fillTree(b, src, 2000)
	m, err := Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer m.Close()
	i := 0
	for b.Loop() {
		name := fmt.Sprintf("v%d", i)
		i++
		m.Create(CreateOptions{Name: name})
		if copied, err := m.CopyUp(name, src); err != nil || !copied {
			b.Fatalf("CopyUp = %v, %v", copied, err)
		}
	}
}
