package main

import (
	"fmt"
	"net"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/reconciler/reconciler/dockerapi/certs"
)

func init() {
	commands = append(commands, newCertsCmd)
}

func newCertsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "certs",
		Short: "Manage the TLS certificates of the daemon's API (port 2376)",
	}
	var (
		o   certs.InitOptions
		ips []string
	)
	initCmd := &cobra.Command{
		Use:   "init DIR",
		Short: "Create a CA, a server and a client certificate in DIR (Docker's file names)",
		Long: `Create a CA, a server certificate and a client certificate in DIR, with the
file names Docker uses (ca.pem, ca-key.pem, server-cert.pem, server-key.pem,
cert.pem, key.pem). Then:

  reconciler daemon -H tcp://0.0.0.0:2376 --tlsverify \
    --tlscacert DIR/ca.pem --tlscert DIR/server-cert.pem --tlskey DIR/server-key.pem
  DOCKER_CERT_PATH=DIR docker --tlsverify -H tcp://HOST:2376 version`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			for _, s := range ips {
				ip := net.ParseIP(s)
				if ip == nil {
					return &exitError{code: 2, msg: fmt.Sprintf("Error: --ip %q is not an IP address", s)}
				}
				o.IPs = append(o.IPs, ip)
			}
			dir := args[0]
			if err := certs.Init(dir, o); err != nil {
				return err
			}
			abs, _ := filepath.Abs(dir)
			fmt.Fprintf(cmd.OutOrStdout(), "wrote CA, server and client certificates to %s\n"+
				"daemon: --tlsverify --tlscacert %[1]s/ca.pem --tlscert %[1]s/server-cert.pem --tlskey %[1]s/server-key.pem\n"+
				"client: DOCKER_CERT_PATH=%[1]s docker --tlsverify -H tcp://HOST:2376 ...\n", abs)
			return nil
		},
	}
	f := initCmd.Flags()
	f.StringArrayVar(&o.Hosts, "hostname", nil, "DNS name of the server (repeatable; localhost is always included)")
	f.StringArrayVar(&ips, "ip", nil, "IP address of the server (repeatable; 127.0.0.1 and ::1 are always included)")
	f.IntVar(&o.Days, "days", 365, "validity of the certificates in days")
	f.BoolVar(&o.Force, "force", false, "replace existing certificate files")
	cmd.AddCommand(initCmd)
	return cmd
}
