package sandbox

import (
	"fmt"
	"os"
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

// EtcFiles returns the container's /etc/hostname, /etc/hosts and
// /etc/resolv.conf, for Config.Files: made afresh at every start, as
// Docker does, from the host's current files. With network host the
// host's /etc/hosts is used; /etc/resolv.conf is always the host's (empty
// if it has none).
func EtcFiles(hostname, network string) ([]File, error) {
	hosts := dockerHosts
	if network == NetworkHost {
		if b, err := os.ReadFile("/etc/hosts"); err == nil {
			hosts = string(b)
		}
	}
	resolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("sandbox: read the host's /etc/resolv.conf: %w", err)
	}
	return []File{
		{Target: "/etc/hostname", Data: hostname + "\n"},
		{Target: "/etc/hosts", Data: hosts},
		{Target: "/etc/resolv.conf", Data: string(resolv)},
	}, nil
}
