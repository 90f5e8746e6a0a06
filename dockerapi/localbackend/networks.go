package localbackend

import (
	"context"

	"github.com/reconciler/reconciler/dockerapi"
)

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
