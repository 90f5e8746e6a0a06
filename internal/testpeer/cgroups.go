package testpeer

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/reconciler/reconciler/internal/mountinfo"
)

// A container killed behind dockerd's back is never deleted by runc, so
// its (then empty) cgroups stay, one per controller. They are removed by
// path: each container's cgroup is named after its ID (cgroupfs driver:
// /docker/ID, systemd driver: docker-ID.scope), and the IDs are the shims'
// -id arguments, so nobody else's cgroup is touched.

// containerCgroups returns the cgroup paths (relative to a hierarchy's
// root) of the given processes whose last element names one of ids.
func containerCgroups(pids []int, ids []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, pid := range pids {
		b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cgroup"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			// "HIERARCHY-ID:CONTROLLERS:PATH"
			parts := strings.SplitN(line, ":", 3)
			if len(parts) != 3 || seen[parts[2]] || !namesOneOf(filepath.Base(parts[2]), ids) {
				continue
			}
			seen[parts[2]] = true
			out = append(out, parts[2])
		}
	}
	return out
}

func namesOneOf(name string, ids []string) bool {
	for _, id := range ids {
		if id != "" && strings.Contains(name, id) {
			return true
		}
	}
	return false
}

// removeCgroups removes each path below every cgroup hierarchy holding it.
// A cgroup is removable once its last process has exited; a just-killed
// one may take a moment, so EBUSY is retried until the deadline.
func removeCgroups(paths []string, deadline time.Time) {
	if len(paths) == 0 {
		return
	}
	for _, root := range cgroupMounts() {
		for _, p := range paths {
			dir := filepath.Join(root, p)
			for {
				err := syscall.Rmdir(dir)
				if err != syscall.EBUSY || time.Now().After(deadline) {
					break
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
}

// cgroupMounts lists the mount points of the cgroup (v1) and cgroup2
// filesystems whose root is the hierarchy's root.
func cgroupMounts() []string {
	mounts, _ := mountinfo.Read()
	var out []string
	for _, m := range mounts {
		if m.Root == "/" && (m.FSType == "cgroup" || m.FSType == "cgroup2") {
			out = append(out, m.MountPoint)
		}
	}
	return out
}
