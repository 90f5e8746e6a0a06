package main

import (
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
)

// DefaultRoot is where the engine keeps its state.
const DefaultRoot = "/var/lib/reconciler"

// DefaultSocket is where the daemon listens by default.
const DefaultSocket = "unix:///run/reconciler/reconciler.sock"

// globalOptions are the flags every command shares, in Docker's spelling.
type globalOptions struct {
	host      string
	tlsVerify bool
	tlsCACert string
	tlsCert   string
	tlsKey    string
	root      string
}

var global globalOptions

// commands registers the subcommand constructors; each file adds its own
// in an init function so command groups live in files of their own.
var commands []func() *cobra.Command

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "reconciler",
		Short:         "Declarative containers, images and volumes from YAML manifests",
		Long:          "reconciler makes hosts match the Images, Containers and Volumes declared in YAML manifests,\nand keeps them that way. Its engine speaks the Docker Engine API.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	f := root.PersistentFlags()
	f.StringVarP(&global.host, "host", "H", os.Getenv("RECONCILER_HOST"), "daemon socket to connect to (unix://PATH or tcp://HOST:PORT; env RECONCILER_HOST)")
	f.BoolVar(&global.tlsVerify, "tlsverify", false, "use TLS and verify the remote")
	f.StringVar(&global.tlsCACert, "tlscacert", "", "trust certs signed only by this CA")
	f.StringVar(&global.tlsCert, "tlscert", "", "path to TLS certificate file")
	f.StringVar(&global.tlsKey, "tlskey", "", "path to TLS key file")
	f.StringVar(&global.root, "root", envOr("RECONCILER_ROOT", DefaultRoot), "state folder (env RECONCILER_ROOT)")
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		// Sockets under the root are addressed as unix://PATH URLs, where
		// a relative path would read as a host name.
		abs, err := filepath.Abs(global.root)
		if err != nil {
			return err
		}
		global.root = abs
		return nil
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return &exitError{code: 2, msg: "Error: " + err.Error() + "\nSee '" + c.CommandPath() + " --help'."}
	})
	for _, newCmd := range commands {
		root.AddCommand(newCmd())
	}
	return root
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
