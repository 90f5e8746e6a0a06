package nsinit

import (
	"errors"
	"strconv"
	"strings"
)

// execUser is a resolved container user.
type execUser struct {
	Uid, Gid int
	Groups   []int // supplementary groups
	Home     string
}

// Files the user is resolved from, inside the container's root.
var (
	passwdFile = "/etc/passwd"
	groupFile  = "/etc/group"
)

// resolveUser resolves "", "uid", "uid:gid", "name", "name:group" (and
// mixes) like Docker and runc: names must exist in the image's /etc/passwd
// and /etc/group, numeric IDs need not; a user found in /etc/passwd gets
// its primary group and home, and the groups listing it as a member
// become its supplementary groups.
func resolveUser(spec string) (execUser, error) {
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	if userPart == "" {
		userPart = "0"
	}
	u := execUser{Home: "/"}
	uid, numeric := atoi(userPart)
	name := ""
	for _, f := range colonFile(passwdFile, 7) {
		if (numeric && f[2] == userPart) || (!numeric && f[0] == userPart) {
			id, ok1 := atoi(f[2])
			gid, ok2 := atoi(f[3])
			if ok1 && ok2 {
				uid, u.Gid, u.Home, name = id, gid, f[5], f[0]
				break
			}
		}
	}
	if !numeric && name == "" {
		return u, errors.New("unable to find user " + userPart + ": no matching entries in " + passwdFile + " of the image")
	}
	u.Uid = uid
	groups := colonFile(groupFile, 4)
	if hasGroup {
		gid, ok := atoi(groupPart)
		if !ok {
			for _, f := range groups {
				if f[0] == groupPart {
					gid, ok = atoi(f[2])
					break
				}
			}
			if !ok {
				return u, errors.New("unable to find group " + groupPart + ": no matching entries in " + groupFile + " of the image")
			}
		}
		u.Gid = gid
	}
	if name != "" {
		for _, f := range groups {
			for _, m := range strings.Split(f[3], ",") {
				if m == name {
					if gid, ok := atoi(f[2]); ok && gid != u.Gid {
						u.Groups = append(u.Groups, gid)
					}
				}
			}
		}
	}
	return u, nil
}

// colonFile reads /etc/passwd-style lines padded to at least n fields; a
// missing file has no entries.
func colonFile(path string, n int) [][]string {
	b, err := readFile(path)
	if err != nil {
		return nil
	}
	var out [][]string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, ":")
		for len(fields) < n {
			fields = append(fields, "")
		}
		out = append(out, fields)
	}
	return out
}

func atoi(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0
}
