// Package mountinfo reads this process's mount table
// (/proc/self/mountinfo), for the code and tests that must leave no mount
// behind under a folder they own.
package mountinfo

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"github.com/reconciler/reconciler/internal/plainfile"
)

// Mount is one entry of the mount table.
type Mount struct {
	Root       string // the mounted file system's folder shown there
	MountPoint string
	FSType     string
}

// Read returns this process's mount table, in mount order.
func Read() ([]Mount, error) {
	f, err := plainfile.Open("/proc/self/mountinfo", os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Mount
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS"
		pre, post, _ := strings.Cut(sc.Text(), " - ")
		fields, fs := strings.Fields(pre), strings.Fields(post)
		if len(fields) < 5 {
			continue
		}
		m := Mount{Root: unescape(fields[3]), MountPoint: unescape(fields[4])}
		if len(fs) > 0 {
			m.FSType = fs[0]
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// Under lists the mount points at or below dir, the last mounted first:
// the order to unmount them in, children before their parents.
func Under(dir string) ([]string, error) {
	mounts, err := Read()
	if err != nil {
		return nil, err
	}
	var out []string
	for i := len(mounts) - 1; i >= 0; i-- {
		if mp := mounts[i].MountPoint; mp == dir || strings.HasPrefix(mp, dir+"/") {
			out = append(out, mp)
		}
	}
	return out, nil
}

// unescape undoes mountinfo's octal escapes (\040 for a space).
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
