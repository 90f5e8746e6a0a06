package dockerapi

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/moby/moby/api/types/network"

	"github.com/reconciler/reconciler/engine"
)

// NetworkBackend serves GET /networks, GET /networks/{id} and POST
// /networks/prune. The engines have dockerd's two predefined networks
// other than bridge, host and none, and no others: the server refuses
// to create, remove, connect or disconnect.
type NetworkBackend interface {
	NetworkList(ctx context.Context, f Filters) ([]network.Summary, error)
	// NetworkInspect takes a name, a full ID or a unique ID prefix, and
	// lists the running containers in the network.
	NetworkInspect(ctx context.Context, ref string) (network.Inspect, error)
	NetworksPrune(ctx context.Context, f Filters) (network.PruneReport, error)
}

// NetworkAttachment is a running container and the network it is in
// ("host" or "none").
type NetworkAttachment struct {
	ID, Name, Network string
}

// FixedNetworks implements NetworkBackend for an engine whose networks are
// host and none: Attached lists its running containers.
type FixedNetworks struct {
	Attached func(ctx context.Context) ([]NetworkAttachment, error)
	// Created is when the engine's state was first made: dockerd's
	// predefined networks carry the time it first created them.
	Created time.Time
}

// fixedNetworks are the networks, by name, with their drivers, as dockerd
// names them.
var fixedNetworks = []struct{ name, driver string }{{"host", "host"}, {"none", "null"}}

// networkID is a network's ID: stable across restarts and engines.
func networkID(name string) string {
	return digest("reconciler network " + name)
}

func digest(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

func (n FixedNetworks) network(name, driver string) network.Network {
	return network.Network{
		Name: name, ID: networkID(name), Created: n.Created, Scope: "local", Driver: driver, EnableIPv4: name != "none",
		IPAM:    network.IPAM{Driver: "default", Config: []network.IPAMConfig{}},
		Options: map[string]string{}, Labels: map[string]string{},
	}
}

// NetworkList implements NetworkBackend: filters name (part of it), id
// (prefix), driver, scope, type (builtin or custom), label and dangling.
func (n FixedNetworks) NetworkList(_ context.Context, f Filters) ([]network.Summary, error) {
	if err := f.Validate("name", "id", "driver", "scope", "type", "label", "dangling"); err != nil {
		return nil, err
	}
	out := []network.Summary{}
	for _, fn := range fixedNetworks {
		nw := n.network(fn.name, fn.driver)
		if matchAny(f.Values("name"), func(v string) bool { return strings.Contains(nw.Name, v) }) &&
			f.MatchPrefix("id", nw.ID) && f.Match("driver", nw.Driver) && f.Match("scope", nw.Scope) &&
			f.Match("type", "builtin") && f.Match("dangling", "false") && f.MatchLabels(nw.Labels) {
			out = append(out, network.Summary{Network: nw})
		}
	}
	return out, nil
}

func matchAny(values []string, match func(string) bool) bool {
	if len(values) == 0 {
		return true
	}
	for _, v := range values {
		if match(v) {
			return true
		}
	}
	return false
}

// NetworkInspect implements NetworkBackend.
func (n FixedNetworks) NetworkInspect(ctx context.Context, ref string) (network.Inspect, error) {
	var found []network.Network
	for _, fn := range fixedNetworks {
		nw := n.network(fn.name, fn.driver)
		if ref == nw.Name || ref == nw.ID {
			found = []network.Network{nw}
			break
		}
		if ref != "" && strings.HasPrefix(nw.ID, ref) {
			found = append(found, nw)
		}
	}
	switch len(found) {
	case 0:
		return network.Inspect{}, fmt.Errorf("%w: network %s not found", engine.ErrNotFound, ref)
	case 1:
	default:
		return network.Inspect{}, fmt.Errorf("%w: network %s is ambiguous (%d matches found based on ID prefix)", engine.ErrInvalid, ref, len(found))
	}
	out := network.Inspect{Network: found[0], Containers: map[string]network.EndpointResource{}}
	attached, err := n.Attached(ctx)
	if err != nil {
		return network.Inspect{}, err
	}
	for _, a := range attached {
		if a.Network == out.Name {
			out.Containers[a.ID] = network.EndpointResource{Name: a.Name, EndpointID: digest(out.ID + a.ID)}
		}
	}
	return out, nil
}

// NetworksPrune implements NetworkBackend: host and none are never
// pruned, as in dockerd, and there are no others.
func (FixedNetworks) NetworksPrune(context.Context, Filters) (network.PruneReport, error) {
	return network.PruneReport{}, nil
}
