package archive

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/reconciler/reconciler/internal/decompress"
	"github.com/reconciler/reconciler/internal/tarsafe"
	"github.com/reconciler/reconciler/layerstore"
)

// spooled is an input archive copied (decompressed if gzip or zstd) to an unlinked temp
// file, with the offset of every regular file's data: members are read in
// place, in any order, without unpacking the archive.
type spooled struct {
	f        *os.File
	size     int64
	files    map[string]member // cleaned name -> data
	symlinks map[string]string // cleaned name -> target (old docker save dedups layers this way)
}

type member struct{ off, size int64 }

// offsetReader counts how far the tar reader got: after Next returns, the
// count is the offset of that member's data (tar reads whole blocks, never
// ahead).
type offsetReader struct {
	r   io.Reader
	off int64
}

func (o *offsetReader) Read(p []byte) (int, error) {
	n, err := o.r.Read(p)
	o.off += int64(n)
	return n, err
}

func spool(s *layerstore.Store, r io.Reader) (*spooled, error) {
	f, err := os.CreateTemp(filepath.Join(s.Root(), "tmp"), "load-")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name()) // anonymous: gone however this ends
	src, _, err := decompress.Reader(r)
	if err != nil {
		f.Close()
		return nil, err
	}
	defer src.Close()
	n, err := io.Copy(f, src)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("read archive: %w", err)
	}
	sp := &spooled{f: f, size: n, files: map[string]member{}, symlinks: map[string]string{}}
	or := &offsetReader{r: io.NewSectionReader(f, 0, n)}
	tr := tar.NewReader(or)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			// Not a tar at all (or a broken one): let the caller say so.
			f.Close()
			return nil, fmt.Errorf("read archive: not a tar archive: %w", err)
		}
		name, err := tarsafe.CleanName(hdr.Name)
		if err != nil || name == "" {
			continue
		}
		switch hdr.Typeflag {
		case tar.TypeReg, tar.TypeRegA:
			sp.files[name] = member{off: or.off, size: hdr.Size}
		case tar.TypeSymlink:
			sp.symlinks[name] = path.Join(path.Dir(name), hdr.Linkname)
		case tar.TypeLink:
			if target, err := tarsafe.CleanName(hdr.Linkname); err == nil {
				sp.symlinks[name] = target
			}
		}
	}
	return sp, nil
}

func (sp *spooled) Close() error { return sp.f.Close() }

func (sp *spooled) has(name string) bool {
	_, err := sp.lookup(name)
	return err == nil
}

// lookup finds a member, following links inside the archive.
func (sp *spooled) lookup(name string) (member, error) {
	orig := name
	for range 16 {
		c, err := tarsafe.CleanName(name)
		if err != nil {
			return member{}, err
		}
		if m, ok := sp.files[c]; ok {
			return m, nil
		}
		t, ok := sp.symlinks[c]
		if !ok {
			break
		}
		name = t
	}
	return member{}, fmt.Errorf("archive has no file %q", orig)
}

// open returns a reader of a member's content.
func (sp *spooled) open(name string) (*io.SectionReader, error) {
	m, err := sp.lookup(name)
	if err != nil {
		return nil, err
	}
	return io.NewSectionReader(sp.f, m.off, m.size), nil
}

// read returns a small member's content (JSON).
func (sp *spooled) read(name string) ([]byte, error) {
	r, err := sp.open(name)
	if err != nil {
		return nil, err
	}
	if r.Size() > 64<<20 {
		return nil, fmt.Errorf("archive member %q is too large for metadata (%d bytes)", name, r.Size())
	}
	return io.ReadAll(r)
}

// whole is the spooled (decompressed) archive from the start.
func (sp *spooled) whole() io.Reader { return io.NewSectionReader(sp.f, 0, sp.size) }
