// Package decompress recognises gzip and zstd streams by their magic
// bytes and decompresses them; anything else passes through unchanged.
package decompress

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// Kind is a stream's compression.
type Kind int

// Compressions recognised.
const (
	None Kind = iota
	Gzip
	Zstd
)

func (k Kind) String() string {
	return [...]string{"none", "gzip", "zstd"}[k]
}

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// Reader returns the decompressed content of r and the compression found.
// Close releases the decompressor (not r).
func Reader(r io.Reader) (io.ReadCloser, Kind, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(4)
	switch {
	case bytes.HasPrefix(magic, gzipMagic):
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, Gzip, fmt.Errorf("gzip: %w", err)
		}
		return &drain{ReadCloser: gz, src: br}, Gzip, nil
	case bytes.HasPrefix(magic, zstdMagic):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, Zstd, fmt.Errorf("zstd: %w", err)
		}
		return &drain{ReadCloser: zr.IOReadCloser(), src: br}, Zstd, nil
	}
	return io.NopCloser(br), None, nil
}

// drain reads what the decompressor left of the source at EOF (padding,
// trailers), so a reader hashing the source sees all of it.
type drain struct {
	io.ReadCloser
	src io.Reader
}

func (d *drain) Read(p []byte) (int, error) {
	n, err := d.ReadCloser.Read(p)
	if err == io.EOF {
		if _, derr := io.Copy(io.Discard, d.src); derr != nil {
			return n, derr
		}
	}
	return n, err
}
