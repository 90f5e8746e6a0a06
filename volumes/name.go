package volumes

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
)

// validName is Docker's rule for local volume names. It also keeps names
// from escaping the state folder or hiding among its dot-files.
var validName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9_.-]+$`)

// ValidateName reports whether name may name a volume, with Docker's
// message if not.
func ValidateName(name string) error {
	if len(name) == 1 && validName.MatchString(name+name) {
		return fmt.Errorf("%w: volume name is too short, names should be at least two alphanumeric characters", ErrInvalid)
	}
	if !validName.MatchString(name) {
		return fmt.Errorf("%w: %q includes invalid characters for a local volume name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed and it must be at least 2 characters long; if you intended to pass a host directory, use an absolute path", ErrInvalid, name)
	}
	return nil
}

// anonymousName is a random 64-hex-digit name, as Docker gives volumes
// created without one.
func anonymousName() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("volumes: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}
