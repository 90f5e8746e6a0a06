package localbackend

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/moby/moby/api/types/container"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/runtime"
)

// hostGateway is docker's --add-host value for "the host's address". With
// --network host the container is in the host's network, where the host
// is its loopback; with none it cannot reach the host at all.
const hostGateway = "host-gateway"

// setNames fills out's /etc/hosts and /etc/resolv.conf settings from
// docker's --add-host, --dns, --dns-search and --dns-option; out.Network
// must be set.
func setNames(out *engine.ContainerConfig, hc *container.HostConfig) error {
	for _, h := range hc.ExtraHosts {
		e, err := extraHost(h, out.Network)
		if err != nil {
			return err
		}
		out.ExtraHosts = append(out.ExtraHosts, e)
	}
	for _, a := range hc.DNS {
		out.DNS = append(out.DNS, a.String())
	}
	for _, s := range append(append([]string{}, hc.DNSSearch...), hc.DNSOptions...) {
		if s == "" || strings.ContainsAny(s, " \t\r\n") {
			return fmt.Errorf("%w: invalid --dns-search or --dns-option %q: want one word", engine.ErrInvalid, s)
		}
	}
	out.DNSSearch, out.DNSOptions = hc.DNSSearch, hc.DNSOptions
	return nil
}

// extraHost reads one --add-host, NAME:IP or NAME=IP (IPv6 bracketed or
// not), into "NAME:IP".
func extraHost(s, network string) (string, error) {
	name, ip, ok := strings.Cut(s, "=")
	if !ok {
		name, ip, ok = strings.Cut(s, ":")
	}
	if !ok || name == "" || strings.ContainsAny(name, " \t\r\n") {
		return "", fmt.Errorf("%w: invalid --add-host %q: want NAME:IP", engine.ErrInvalid, s)
	}
	if ip == hostGateway {
		if network != engine.NetworkHost {
			return "", fmt.Errorf("%w: --add-host %s: host-gateway needs a bridge network, which this engine does not have: with --network none the container cannot reach the host; with --network host, host-gateway is 127.0.0.1", engine.ErrInvalid, s)
		}
		return name + ":127.0.0.1", nil
	}
	addr, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(ip, "["), "]"))
	if err != nil {
		return "", fmt.Errorf("%w: invalid IP address in add-host: %q", engine.ErrInvalid, ip)
	}
	return name + ":" + addr.String(), nil
}

// inspectNames is setNames backwards, for inspect.
func inspectNames(hc *container.HostConfig, s *runtime.Spec) {
	hc.ExtraHosts, hc.DNSSearch, hc.DNSOptions = s.ExtraHosts, s.DNSSearch, s.DNSOptions
	for _, a := range s.DNS {
		if addr, err := netip.ParseAddr(a); err == nil {
			hc.DNS = append(hc.DNS, addr)
		}
	}
}
