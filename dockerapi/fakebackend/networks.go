package fakebackend

import (
	"context"

	"github.com/reconciler/reconciler/dockerapi"
)

// networkAttachments lists the running fake containers and their network
// (host, or none for any other mode), for dockerapi.FixedNetworks.
func (b *Backend) networkAttachments(context.Context) ([]dockerapi.NetworkAttachment, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []dockerapi.NetworkAttachment
	for _, c := range b.containers {
		if c.state != "running" {
			continue
		}
		a := dockerapi.NetworkAttachment{ID: c.id, Name: c.name, Network: "none"}
		if c.host != nil && c.host.NetworkMode == "host" {
			a.Network = "host"
		}
		out = append(out, a)
	}
	return out, nil
}
