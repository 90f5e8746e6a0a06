package tarsafe

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"golang.org/x/sys/unix"
)

// Archiver writes file trees into a tar stream by descriptors only: every
// directory is opened beneath its parent with O_NOFOLLOW, every file read
// the same way, so a tree that changes while it is read (a running
// container's root) can never lead the walk out of it, whatever symlinks
// appear meanwhile. Hardlinks within one Archiver become tar links;
// sockets are skipped; the contents of proc, sysfs and cgroup file
// systems (mounted in a running container) are not archived, only their
// mount point directories.
type Archiver struct {
	tw    *tar.Writer
	links map[[2]uint64]string // (dev, inode) -> first name written
}

// NewArchiver writes to w; Close ends the tar stream.
func NewArchiver(w io.Writer) *Archiver {
	return &Archiver{tw: tar.NewWriter(w), links: map[[2]uint64]string{}}
}

// Close writes the tar footer.
func (a *Archiver) Close() error { return a.tw.Close() }

// Add writes the entry base of the directory dirFd as name, and all below
// it when it is a directory (as name/child...). base "" is dirFd itself;
// name "" writes no entry for it, only what it holds (export's layout).
func (a *Archiver) Add(ctx context.Context, dirFd int, base, name string) error {
	var st unix.Stat_t
	flags := unix.AT_SYMLINK_NOFOLLOW
	if base == "" {
		flags |= unix.AT_EMPTY_PATH
	}
	if err := unix.Fstatat(dirFd, base, &st, flags); err != nil {
		return fmt.Errorf("%s: %w", displayName(name), err)
	}
	if name != "" {
		if err := a.header(dirFd, base, name, &st); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	if st.Mode&unix.S_IFMT != unix.S_IFDIR {
		return nil
	}
	open := base
	if open == "" {
		open = "."
	}
	fd, err := unix.Openat(dirFd, open, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("%s: %w", displayName(name), err)
	}
	d := os.NewFile(uintptr(fd), name)
	defer d.Close()
	if pseudoFS(fd) {
		return nil
	}
	names, err := d.Readdirnames(-1)
	if err != nil {
		return fmt.Errorf("%s: %w", displayName(name), err)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := ctx.Err(); err != nil {
			return err
		}
		child := n
		if name != "" {
			child = name + "/" + n
		}
		if err := a.Add(ctx, fd, n, child); err != nil {
			return err
		}
	}
	return nil
}

func displayName(name string) string {
	if name == "" {
		return "/"
	}
	return name
}

// header writes the tar entry (and content) of base in pfd.
func (a *Archiver) header(pfd int, base, name string, st *unix.Stat_t) error {
	hdr := &tar.Header{
		Name: name, Mode: int64(st.Mode & 0o7777), Uid: int(st.Uid), Gid: int(st.Gid),
		ModTime: time.Unix(st.Mtim.Unix()),
	}
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFDIR:
		hdr.Typeflag, hdr.Name = tar.TypeDir, name+"/"
	case unix.S_IFREG:
		hdr.Typeflag, hdr.Size = tar.TypeReg, st.Size
		key := [2]uint64{st.Dev, st.Ino}
		if st.Nlink > 1 {
			if first, ok := a.links[key]; ok {
				hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeLink, first, 0
			} else {
				a.links[key] = name
			}
		}
	case unix.S_IFLNK:
		link, err := readlinkat(pfd, base)
		if err != nil {
			return err
		}
		hdr.Typeflag, hdr.Linkname = tar.TypeSymlink, link
	case unix.S_IFIFO:
		hdr.Typeflag = tar.TypeFifo
	case unix.S_IFCHR, unix.S_IFBLK:
		hdr.Typeflag = tar.TypeChar
		if st.Mode&unix.S_IFMT == unix.S_IFBLK {
			hdr.Typeflag = tar.TypeBlock
		}
		hdr.Devmajor, hdr.Devminor = int64(unix.Major(st.Rdev)), int64(unix.Minor(st.Rdev))
	default:
		return nil // sockets are not archived (Docker skips them too)
	}
	if err := a.tw.WriteHeader(hdr); err != nil {
		return err
	}
	if hdr.Typeflag != tar.TypeReg || hdr.Size == 0 {
		return nil
	}
	fd, err := openFile(pfd, base)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), name)
	defer f.Close()
	// The file stat'ed may have been replaced since (a running
	// container): read only that very regular file.
	var now unix.Stat_t
	if err := unix.Fstat(fd, &now); err != nil {
		return err
	}
	if now.Mode&unix.S_IFMT != unix.S_IFREG || now.Dev != st.Dev || now.Ino != st.Ino {
		return fmt.Errorf("changed while being read")
	}
	if _, err := io.CopyN(a.tw, f, hdr.Size); err != nil {
		if errors.Is(err, io.EOF) {
			return fmt.Errorf("shrank while being read")
		}
		return err
	}
	return nil
}

// openFile opens base in pfd for reading, not following a symlink; base ""
// reopens pfd itself (an O_PATH descriptor) through its /proc magic link,
// which names that very inode. O_NONBLOCK: a FIFO swapped in meanwhile
// must not block the open (regular files ignore the flag).
func openFile(pfd int, base string) (int, error) {
	if base == "" {
		return unix.Open(procPath(pfd, ""), unix.O_RDONLY|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	}
	return unix.Openat(pfd, base, unix.O_RDONLY|unix.O_NONBLOCK|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
}

func readlinkat(pfd int, base string) (string, error) {
	for size := 256; ; size *= 2 {
		buf := make([]byte, size)
		n, err := unix.Readlinkat(pfd, base, buf)
		if err != nil {
			return "", err
		}
		if n < size {
			return string(buf[:n]), nil
		}
	}
}

// pseudoFS says whether the directory fd is on a kernel file system whose
// contents are no files of the container (a running container's /proc,
// /sys, cgroups).
func pseudoFS(fd int) bool {
	var fs unix.Statfs_t
	if unix.Fstatfs(fd, &fs) != nil {
		return false
	}
	switch fs.Type {
	case unix.PROC_SUPER_MAGIC, unix.SYSFS_MAGIC, unix.CGROUP_SUPER_MAGIC, unix.CGROUP2_SUPER_MAGIC, unix.DEVPTS_SUPER_MAGIC:
		return true
	}
	return false
}
