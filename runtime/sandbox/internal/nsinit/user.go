package nsinit

import "github.com/reconciler/reconciler/internal/userdb"

// execUser is a resolved container user.
type execUser = userdb.User

// resolveUser resolves the spec's user inside the container's root (see
// userdb.Resolve); a missing file has no entries.
func resolveUser(spec string) (execUser, error) {
	passwd, _ := readFile(userdb.PasswdFile)
	group, _ := readFile(userdb.GroupFile)
	return userdb.Resolve(spec, passwd, group)
}
