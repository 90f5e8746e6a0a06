package layerstore

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/overlaydiff"
	"github.com/reconciler/reconciler/internal/tarsafe"
)

// DiffDir writes the OCI layer tar of an overlayfs upperdir: whiteouts
// (0/0 character devices) become ".wh.NAME" entries and opaque directories
// (trusted.overlay.opaque=y) get a ".wh..wh..opq" entry, as Docker's
// overlay2 driver does for commit and build. Entries are in lexical order
// with mtimes cut to seconds (like Docker), so the same upperdir always
// gives the same diff ID. An upperdir written with overlayfs redirect_dir
// or metacopy cannot be expressed as an OCI layer and is refused: mount
// with redirect_dir=off,metacopy=off.
func (s *Store) DiffDir(ctx context.Context, upperDir string, w io.Writer) error {
	upperFd, err := unix.Open(upperDir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("diff of %s: %w", upperDir, err)
	}
	defer unix.Close(upperFd)
	tw := tar.NewWriter(w)
	inodes := map[uint64]string{} // hardlinks: inode -> first name written
	err = overlaydiff.Walk(ctx, upperDir, func(e overlaydiff.Entry) error {
		return writeDiffEntry(tw, upperFd, e, inodes)
	})
	if err != nil {
		return fmt.Errorf("diff of %s: %w", upperDir, err)
	}
	return tw.Close()
}

func writeDiffEntry(tw *tar.Writer, upperFd int, e overlaydiff.Entry, inodes map[uint64]string) error {
	p, name, st := e.Path, e.Name, e.Stat
	mtime := time.Unix(st.Mtim.Sec, 0)
	typ := st.Mode & unix.S_IFMT
	if typ == unix.S_IFSOCK {
		return nil // sockets are not archived (Docker skips them too)
	}
	if e.Whiteout {
		dir, base := path.Split(name)
		return tw.WriteHeader(&tar.Header{
			Typeflag: tar.TypeReg, Name: dir + tarsafe.WhiteoutPrefix + base, Mode: int64(st.Mode & 0o777),
			Uid: int(st.Uid), Gid: int(st.Gid), ModTime: mtime, Format: tar.FormatPAX,
		})
	}
	xattrs, err := listXattrs(p)
	if err != nil {
		return err
	}
	for _, k := range []string{"trusted.overlay.redirect", "trusted.overlay.metacopy"} {
		if _, ok := xattrs[k]; ok {
			return fmt.Errorf("%s carries %s: the overlay was mounted with redirect_dir or metacopy, which OCI layers cannot express (mount with redirect_dir=off,metacopy=off)", name, k)
		}
	}
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	link := ""
	if typ == unix.S_IFLNK {
		if link, err = os.Readlink(p); err != nil {
			return err
		}
	}
	hdr, err := tar.FileInfoHeader(fi, link)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	hdr.Name, hdr.Uid, hdr.Gid, hdr.Uname, hdr.Gname = name, int(st.Uid), int(st.Gid), "", ""
	hdr.ModTime, hdr.AccessTime, hdr.ChangeTime, hdr.Format = mtime, time.Time{}, time.Time{}, tar.FormatPAX
	if typ == unix.S_IFDIR {
		hdr.Name += "/"
	}
	if typ == unix.S_IFCHR || typ == unix.S_IFBLK {
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	}
	for k, v := range xattrs {
		if strings.HasPrefix(k, "trusted.overlay.") {
			continue
		}
		if hdr.PAXRecords == nil {
			hdr.PAXRecords = map[string]string{}
		}
		hdr.PAXRecords["SCHILY.xattr."+k] = v
	}
	if typ == unix.S_IFREG && st.Nlink > 1 {
		if first, ok := inodes[st.Ino]; ok {
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
		} else {
			inodes[st.Ino] = name
		}
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if hdr.Typeflag == tar.TypeReg && hdr.Size > 0 {
		// Opened beneath the upperdir without following any symlink: a
		// container still running cannot swap a directory for a link
		// to a host file between the walk and the read.
		fd, err := unix.Openat2(upperFd, name, &unix.OpenHow{
			Flags:   unix.O_RDONLY | unix.O_NOFOLLOW | unix.O_CLOEXEC,
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
		})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		f := os.NewFile(uintptr(fd), p)
		_, err = io.CopyN(tw, f, hdr.Size)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: changed while being read (stop the container first): %w", name, err)
		}
	}
	if e.Opaque {
		return tw.WriteHeader(&tar.Header{
			Typeflag: tar.TypeReg, Name: name + "/" + tarsafe.WhiteoutOpaqueDir, Mode: 0o644,
			Uid: int(st.Uid), Gid: int(st.Gid), ModTime: mtime, Format: tar.FormatPAX,
		})
	}
	return nil
}

// listXattrs reads every extended attribute of p (not following symlinks).
func listXattrs(p string) (map[string]string, error) {
	size, err := unix.Llistxattr(p, nil)
	if err != nil {
		if errors.Is(err, unix.ENOTSUP) {
			return nil, nil
		}
		return nil, fmt.Errorf("list xattrs of %s: %w", p, err)
	}
	if size == 0 {
		return nil, nil
	}
	buf := make([]byte, size)
	if size, err = unix.Llistxattr(p, buf); err != nil {
		return nil, fmt.Errorf("list xattrs of %s: %w", p, err)
	}
	out := map[string]string{}
	for _, k := range strings.Split(strings.TrimRight(string(buf[:size]), "\x00"), "\x00") {
		if k == "" {
			continue
		}
		vsize, err := unix.Lgetxattr(p, k, nil)
		if err != nil {
			return nil, fmt.Errorf("read xattr %s of %s: %w", k, p, err)
		}
		v := make([]byte, vsize)
		if vsize, err = unix.Lgetxattr(p, k, v); err != nil {
			return nil, fmt.Errorf("read xattr %s of %s: %w", k, p, err)
		}
		out[k] = string(v[:vsize])
	}
	return out, nil
}
