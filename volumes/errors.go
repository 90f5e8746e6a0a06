package volumes

// Errors returned by this package, testable with errors.Is. Each is wrapped
// with the operation and the volume's name, in Docker's words
// ("remove data: volume is in use - [c1, c2]"), so the Docker API can map
// them to 404, 409 and 400.
var (
	// ErrNotFound: no volume has that name.
	ErrNotFound error = &sentinel{msg: "no such volume"}
	// ErrConflict: the request contradicts an existing volume (for
	// example, create with other labels than the volume already has).
	ErrConflict error = &sentinel{msg: "conflict"}
	// ErrInUse: a container uses the volume. It is also an ErrConflict.
	ErrInUse error = &sentinel{msg: "volume is in use", parent: ErrConflict}
	// ErrInvalid: a bad name, driver, filter, subPath or bind source.
	ErrInvalid error = &sentinel{msg: "invalid argument"}
)

// sentinel is an error value that may also match a broader one, so
// errors.Is(err, ErrConflict) holds for an ErrInUse.
type sentinel struct {
	msg    string
	parent error
}

func (e *sentinel) Error() string { return e.msg }
func (e *sentinel) Unwrap() error { return e.parent }
