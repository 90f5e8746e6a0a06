// Package beneath opens paths inside a folder with the kernel's promise
// that the lookup stays there (openat2 RESOLVE_BENEATH): symlinks are
// followed only while they stay beneath it, and "..", absolute links and
// /proc magic links that lead out fail (EXDEV, ELOOP). A folder another
// program can change (a volume a container writes to) can then never lead
// a path out of it, however it is swapped between two lookups.
//
// It depends on golang.org/x/sys/unix alone, so the container's init
// (runtime/sandbox/internal/nsinit) can use it too.
package beneath

import "golang.org/x/sys/unix"

// At opens p beneath the folder dirfd as an O_PATH descriptor.
func At(dirfd int, p string) (int, error) {
	return unix.Openat2(dirfd, p, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	})
}

// Open opens sub beneath the folder root (which is not followed if it is
// a symlink itself) as an O_PATH descriptor; "" or "." is root itself.
func Open(root, sub string) (int, error) {
	rfd, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if sub == "" || sub == "." {
		return rfd, nil
	}
	defer unix.Close(rfd)
	return At(rfd, sub)
}
