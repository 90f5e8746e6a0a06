package sandbox

import (
	"bufio"
	"fmt"
	"os"
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
// mixes) like Docker: names must exist in the image's /etc/passwd and
// /etc/group, numeric IDs need not; a user found by name or ID gets its
// primary group, home and the groups listing it as a member.
func resolveUser(spec string) (execUser, error) {
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	if userPart == "" {
		userPart = "0"
	}
	u := execUser{Home: "/"}
	users, _ := readColonFile(passwdFile, 7)
	uid, numeric := atoi(userPart)
	found := false
	var name string
	for _, f := range users {
		if (numeric && f[2] == userPart) || (!numeric && f[0] == userPart) {
			id, ok1 := atoi(f[2])
			gid, ok2 := atoi(f[3])
			if !ok1 || !ok2 {
				continue
			}
			uid, u.Gid, u.Home, name, found = id, gid, f[5], f[0], true
			break
		}
	}
	if !numeric && !found {
		return u, fmt.Errorf("unable to find user %s: no matching entries in %s of the image", userPart, passwdFile)
	}
	u.Uid = uid
	groups, _ := readColonFile(groupFile, 4)
	if hasGroup {
		gid, ok := atoi(groupPart)
		if !ok {
			found := false
			for _, f := range groups {
				if f[0] == groupPart {
					if gid, ok = atoi(f[2]); ok {
						found = true
						break
					}
				}
			}
			if !found {
				return u, fmt.Errorf("unable to find group %s: no matching entries in %s of the image", groupPart, groupFile)
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

// readColonFile reads /etc/passwd-style lines with at least n fields.
func readColonFile(path string, n int) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, ":")
		if len(fields) < n {
			fields = append(fields, make([]string, n-len(fields))...)
		}
		out = append(out, fields)
	}
	return out, sc.Err()
}

func atoi(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0
}
