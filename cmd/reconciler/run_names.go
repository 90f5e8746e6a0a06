package main

import (
	"fmt"
	"net/netip"

	"github.com/moby/moby/api/types/container"
	"github.com/spf13/pflag"
)

// nameOptions are docker run's --add-host, --dns, --dns-search and
// --dns-option: the container's /etc/hosts and /etc/resolv.conf.
type nameOptions struct {
	addHosts, dns, dnsSearch, dnsOptions []string
}

func (o *nameOptions) addFlags(f *pflag.FlagSet) {
	f.StringArrayVar(&o.addHosts, "add-host", nil, "Add a custom host-to-IP mapping (NAME:IP; host-gateway is 127.0.0.1, with --network host only)")
	f.StringArrayVar(&o.dns, "dns", nil, "Set custom DNS servers")
	f.StringArrayVar(&o.dnsSearch, "dns-search", nil, "Set custom DNS search domains")
	f.StringArrayVar(&o.dnsOptions, "dns-option", nil, "Set DNS options")
}

// apply sets them in the create request; the daemon checks --add-host.
func (o *nameOptions) apply(hc *container.HostConfig) error {
	hc.ExtraHosts, hc.DNSSearch, hc.DNSOptions = o.addHosts, o.dnsSearch, o.dnsOptions
	for _, s := range o.dns {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return fmt.Errorf("invalid argument %q for \"--dns\" flag: %s is not an ip address", s, s)
		}
		hc.DNS = append(hc.DNS, a)
	}
	return nil
}
