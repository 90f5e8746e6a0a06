package sandbox

import (
	"fmt"
	"net/netip"
	"os"
	"strings"

	"github.com/reconciler/reconciler/internal/plainfile"
)

// dockerHosts is /etc/hosts of a Docker container without a network of
// its own (network none).
const dockerHosts = `127.0.0.1	localhost
::1	localhost ip6-localhost ip6-loopback
fe00::0	ip6-localnet
ff00::0	ip6-mcastprefix
ff02::1	ip6-allnodes
ff02::2	ip6-allrouters
`

// Names are a container's own name resolution settings, docker's
// --add-host, --dns, --dns-search and --dns-option; the zero value keeps
// Docker's defaults.
type Names struct {
	ExtraHosts []string // "NAME:IP", IP valid (IPv6 unbracketed): lines of /etc/hosts
	DNS        []string // nameserver lines, replacing the host's
	DNSSearch  []string // the search line, replacing the host's ("." alone: none)
	DNSOptions []string // the options line, replacing the host's
}

// EtcFiles returns the container's /etc/hostname, /etc/hosts and
// /etc/resolv.conf, for Config.Files: made afresh at every start, as
// Docker does, from the host's current files. With network host and no
// extra hosts the host's /etc/hosts is used, else Docker's own plus the
// extra hosts (as dockerd, so they can override the host's names).
// /etc/resolv.conf is the host's (empty if it has none), its nameserver,
// search and options lines replaced by those of names that are set, or,
// off the host's network, without its loopback and IPv6 nameservers
// (offHostResolvConf): as dockerd 20.10 builds it.
func EtcFiles(hostname, network string, names Names) ([]File, error) {
	hosts := dockerHosts
	if network == NetworkHost && len(names.ExtraHosts) == 0 {
		if b, err := plainfile.ReadFile("/etc/hosts"); err == nil {
			hosts = string(b)
		}
	}
	for _, h := range names.ExtraHosts {
		name, ip, _ := strings.Cut(h, ":")
		hosts += ip + "\t" + name + "\n"
	}
	b, err := plainfile.ReadFile("/etc/resolv.conf")
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("sandbox: read the host's /etc/resolv.conf: %w", err)
	}
	resolv := string(b)
	switch {
	case len(names.DNS) > 0 || len(names.DNSSearch) > 0 || len(names.DNSOptions) > 0:
		resolv = resolvConf(resolv, names)
	case network != NetworkHost:
		resolv = offHostResolvConf(resolv)
	}
	return []File{
		{Target: "/etc/hostname", Data: hostname + "\n"},
		{Target: "/etc/hosts", Data: hosts},
		{Target: "/etc/resolv.conf", Data: resolv},
	}, nil
}

// defaultNameservers are dockerd's for a container off the host's network
// left with none: Google's public DNS.
var defaultNameservers = []string{"8.8.8.8", "8.8.4.4"}

// offHostResolvConf is dockerd's resolv.conf for a container without DNS
// settings that is not on the host's network (network none, where IPv6 is
// off): the host's, less its loopback nameservers (a local resolver such
// as systemd-resolved's 127.0.0.53 answers only in the host's network
// namespace) and its IPv6 ones, and if none is left, defaultNameservers.
// Measured against dockerd 20.10.
func offHostResolvConf(host string) string {
	var b strings.Builder
	servers := 0
	for _, line := range strings.SplitAfter(host, "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "nameserver" {
			if ip, err := netip.ParseAddr(f[1]); err == nil && (ip.IsLoopback() || !ip.Is4()) {
				continue
			}
			servers++
		}
		b.WriteString(line)
	}
	if servers == 0 {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
			b.WriteString("\n")
		}
		for _, s := range defaultNameservers {
			b.WriteString("nameserver " + s + "\n")
		}
	}
	return b.String()
}

// resolvConf is dockerd's resolv.conf for a container with DNS settings:
// the search line, nameservers and options line, each from names if set
// there, else from the host's file (its nameservers, its last search and
// options lines).
func resolvConf(host string, names Names) string {
	var servers, search, options []string
	for _, line := range strings.Split(host, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "nameserver":
			if len(f) > 1 {
				servers = append(servers, f[1])
			}
		case "search":
			search = f[1:]
		case "options":
			options = f[1:]
		}
	}
	if len(names.DNS) > 0 {
		servers = names.DNS
	}
	if len(names.DNSSearch) > 0 {
		search = names.DNSSearch
	}
	if len(names.DNSOptions) > 0 {
		options = names.DNSOptions
	}
	var b strings.Builder
	if s := strings.Join(search, " "); len(search) > 0 && strings.TrimSpace(s) != "." {
		b.WriteString("search " + s + "\n")
	}
	for _, s := range servers {
		b.WriteString("nameserver " + s + "\n")
	}
	if len(options) > 0 {
		b.WriteString("options " + strings.Join(options, " ") + "\n")
	}
	return b.String()
}
