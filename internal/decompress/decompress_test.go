package decompress

import (
	"bytes"
	"compress/gzip"
	"io"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func TestReader(t *testing.T) {
	data := bytes.Repeat([]byte("layer "), 1000)
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(data)
	w.Close()
	zw, _ := zstd.NewWriter(nil)
	zs := zw.EncodeAll(data, nil)
	for _, tc := range []struct {
		in   []byte
		kind Kind
	}{{data, None}, {gz.Bytes(), Gzip}, {zs, Zstd}, {nil, None}} {
		src := bytes.NewReader(tc.in)
		r, k, err := Reader(src)
		if err != nil || k != tc.kind {
			t.Fatalf("kind %v: got %v %v", tc.kind, k, err)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if err != nil || (len(tc.in) > 0 && !bytes.Equal(got, data)) {
			t.Fatalf("kind %v: content differs (%v)", tc.kind, err)
		}
		if src.Len() != 0 {
			t.Fatalf("kind %v: %d source bytes left unread", tc.kind, src.Len())
		}
	}
	if _, _, err := Reader(bytes.NewReader([]byte{0x1f, 0x8b, 0, 0})); err == nil {
		t.Fatal("broken gzip accepted")
	}
}
