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
// container's layer); EtcMounts are the bind mounts that put them in
// place, as Docker does: kept out of the container layer, so a commit
// never captures them, yet writable from inside. With network host the
// host's /etc/hosts is used; /etc/resolv.conf is always the host's (empty
// if it has none). The files are synced concurrently, so their fsyncs
// share journal commits, then the folder once: a create is on every
// container's start path.
func EtcFiles(dir, hostname, network string) error {
	hosts := []byte(dockerHosts)
	if network == NetworkHost {
		if b, err := os.ReadFile("/etc/hosts"); err == nil {
			hosts = b
		}
	}
	resolv, err := os.ReadFile("/etc/resolv.conf")
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("sandbox: read the host's /etc/resolv.conf: %w", err)
	}
	data := map[string][]byte{"hostname": []byte(hostname + "\n"), "hosts": hosts, "resolv.conf": resolv}
	errs := make(chan error, len(etcNames))
	for _, name := range etcNames {
		go func() { errs <- writeNew(filepath.Join(dir, name), data[name]) }()
	}
	for range etcNames {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	if err == nil {
		err = atomicfile.SyncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("sandbox: %w", err)
	}
	return nil
}

var etcNames = []string{"hostname", "hosts", "resolv.conf"}

// EtcMounts are the bind mounts of the files EtcFiles writes into dir.
func EtcMounts(dir string) []Mount {
	var mounts []Mount
	for _, name := range etcNames {
		mounts = append(mounts, Mount{Type: "bind", Source: filepath.Join(dir, name), Target: "/etc/" + name})
	}
	return mounts
}

// writeNew creates a file that must not exist yet and syncs its content:
// the files are written once, into a folder of a container being created,
// so there is no old content to replace atomically.
func writeNew(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if _, err = f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
