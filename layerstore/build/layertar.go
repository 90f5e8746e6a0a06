package build

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/bzip2"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// digest is the cache input digest of a plan: every entry's path, type,
// mode, owner, link target, size and content hash, in order. Modification
// times are left out (as in Docker), so touching a file keeps the cache.
func (p *plan) digest() (string, error) {
	h := sha256.New()
	for _, e := range p.entries {
		sum := ""
		switch {
		case e.archive != "":
			s, err := fileSHA256(e.archive)
			if err != nil {
				return "", err
			}
			sum = "archive:" + s
		case e.host != "":
			s, err := fileSHA256(e.host)
			if err != nil {
				return "", err
			}
			sum = s
		case e.data != nil:
			b := sha256.Sum256(e.data)
			sum = hex.EncodeToString(b[:])
		}
		x := e.hdr
		fmt.Fprintf(h, "%q %c %o %d:%d %q %d %s\n", x.Name, x.Typeflag, x.Mode, x.Uid, x.Gid, x.Linkname, x.Size, sum)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// writeTar writes the plan as an uncompressed layer tar.
func (p *plan) writeTar(w io.Writer) error {
	tw := tar.NewWriter(w)
	for _, e := range p.entries {
		if e.archive != "" {
			if err := extractInto(tw, e.archive, e.hdr.Name); err != nil {
				return fmt.Errorf("ADD: extracting %s: %w", path.Base(e.archive), err)
			}
			continue
		}
		hdr := e.hdr
		if err := tw.WriteHeader(&hdr); err != nil {
			return err
		}
		switch {
		case e.host != "":
			if err := copyFile(tw, e.host, hdr.Size); err != nil {
				return err
			}
		case e.data != nil:
			if _, err := tw.Write(e.data); err != nil {
				return err
			}
		}
	}
	return tw.Close()
}

// copyFile copies exactly size bytes: a file that changed size since it was
// planned is an error, never a corrupt tar.
func copyFile(w io.Writer, name string, size int64) error {
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	n, err := io.Copy(w, io.LimitReader(f, size))
	if err == nil && n != size {
		err = fmt.Errorf("%s changed size while being copied", name)
	}
	return err
}

// openArchive returns a reader of the uncompressed tar stream in name, or
// ok=false if name is not a (plain, gzip or bzip2) tar archive.
func openArchive(name string) (r io.Reader, closeFn func() error, ok bool) {
	f, err := os.Open(name)
	if err != nil {
		return nil, nil, false
	}
	br := bufio.NewReader(f)
	magic, _ := br.Peek(3)
	var rd io.Reader = br
	switch {
	case bytes.HasPrefix(magic, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, nil, false
		}
		rd = zr
	case bytes.HasPrefix(magic, []byte("BZh")):
		rd = bzip2.NewReader(br)
	}
	return rd, f.Close, true
}

// isArchive reports whether ADD should extract name: it must start with a
// valid tar header once decompressed, as Docker checks.
func isArchive(name string) bool {
	r, closeFn, ok := openArchive(name)
	if !ok {
		return false
	}
	defer closeFn()
	_, err := tar.NewReader(r).Next()
	return err == nil
}

// extractInto re-writes the members of archive under dir into tw. Names
// that would leave dir are refused; the store's own unpacking then applies
// its escape checks once more.
func extractInto(tw *tar.Writer, archive, dir string) error {
	r, closeFn, ok := openArchive(archive)
	if !ok {
		return errors.New("not an archive")
	}
	defer closeFn()
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		name, err := under(dir, hdr.Name)
		if err != nil {
			return err
		}
		if name == "" {
			continue // the archive's "./" entry: dir already exists
		}
		hdr.Name = name
		if hdr.Typeflag == tar.TypeDir {
			hdr.Name += "/"
		}
		if hdr.Typeflag == tar.TypeLink {
			if hdr.Linkname, err = under(dir, hdr.Linkname); err != nil {
				return err
			}
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if hdr.Typeflag == tar.TypeReg {
			if _, err := io.Copy(tw, tr); err != nil {
				return err
			}
		}
	}
}

// under joins an archive member name to dir, refusing names that climb out.
func under(dir, name string) (string, error) {
	c := path.Clean(strings.TrimLeft(name, "/"))
	if c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("archive member %q points outside the destination", name)
	}
	if c == "." {
		return "", nil
	}
	return path.Join(dir, c), nil
}
