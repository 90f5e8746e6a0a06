// Package userdb resolves a container's user against its image's
// /etc/passwd and /etc/group, as Docker and runc do, for the container's
// init (which switches to it) and for docker cp -a (which gives it what is
// copied). It parses contents only: the callers read the files, each its
// own way (the init with bare system calls, inside the container's root).
package userdb

import (
	"errors"
	"strconv"
	"strings"
)

// Files are where the contents given to Resolve come from, in the image.
const (
	PasswdFile = "/etc/passwd"
	GroupFile  = "/etc/group"
)

// User is a resolved container user.
type User struct {
	Uid, Gid int
	Groups   []int // supplementary groups
	Home     string
}

// Resolve resolves "", "uid", "uid:gid", "name", "name:group" (and mixes)
// against the contents of the image's /etc/passwd and /etc/group (nil: the
// file is missing): names must exist, numeric IDs need not; a user found
// in /etc/passwd gets its primary group and home, and the groups listing
// it as a member become its supplementary groups. A numeric user not
// found has group 0 and home "/".
func Resolve(spec string, passwd, group []byte) (User, error) {
	userPart, groupPart, hasGroup := strings.Cut(spec, ":")
	if userPart == "" {
		userPart = "0"
	}
	u := User{Home: "/"}
	uid, numeric := atoi(userPart)
	name := ""
	for _, f := range colonLines(passwd, 7) {
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
		return u, errors.New("unable to find user " + userPart + ": no matching entries in " + PasswdFile + " of the image")
	}
	u.Uid = uid
	groups := colonLines(group, 4)
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
				return u, errors.New("unable to find group " + groupPart + ": no matching entries in " + GroupFile + " of the image")
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

// colonLines splits /etc/passwd-style contents into lines of at least n
// fields, skipping blank lines and comments.
func colonLines(b []byte, n int) [][]string {
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
