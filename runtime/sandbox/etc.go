package sandbox

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/reconciler/reconciler/internal/atomicfile"
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

// EtcFiles writes the container's /etc/hostname, /etc/hosts and
// /etc/resolv.conf into dir (a caller-owned directory, e.g. next to the
// container's layer) and returns the bind mounts that put them in place,
// as Docker does: kept out of the container layer, so a commit never
// captures them, yet writable from inside. With network host the host's
// /etc/hosts is used; /etc/resolv.conf is always the host's (empty if it
// has none).
func EtcFiles(dir, hostname, network string) ([]Mount, error) {
	hosts := []byte(dockerHosts)
	if network == NetworkHost {
		if b, err := os.ReadFile("/etc/hosts"); err == nil {
			hosts = b
		}
	}
	resolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("sandbox: read the host's /etc/resolv.conf: %w", err)
	}
	files := []struct {
		name string
		data []byte
	}{{"hostname", []byte(hostname + "\n")}, {"hosts", hosts}, {"resolv.conf", resolv}}
	var mounts []Mount
	for _, f := range files {
		p := filepath.Join(dir, f.name)
		if err := atomicfile.WriteFile(p, f.data, 0o644); err != nil {
			return nil, fmt.Errorf("sandbox: %w", err)
		}
		mounts = append(mounts, Mount{Type: "bind", Source: p, Target: "/etc/" + f.name})
	}
	return mounts, nil
}
