package localbackend

import (
	"context"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/dockerapi"
)

// born is when dir was made (its mtime where the file system keeps no
// birth time): the engine's state root, made when its networks came to be.
func born(dir string) time.Time {
	var st unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, dir, 0, unix.STATX_BTIME|unix.STATX_MTIME, &st); err != nil {
		return time.Time{}
	}
	t := st.Mtime
	if st.Mask&unix.STATX_BTIME != 0 {
		t = st.Btime
	}
	return time.Unix(t.Sec, int64(t.Nsec)).UTC()
}

// networkAttachments lists the running containers and their network, for
// dockerapi.FixedNetworks.
func (b *Backend) networkAttachments(context.Context) ([]dockerapi.NetworkAttachment, error) {
	cs, err := b.rt().List()
	if err != nil {
		return nil, err
	}
	var out []dockerapi.NetworkAttachment
	for _, c := range cs {
		if c.State.Running() {
			out = append(out, dockerapi.NetworkAttachment{ID: c.ID, Name: c.Name, Network: networkOf(c)})
		}
	}
	return out, nil
}
