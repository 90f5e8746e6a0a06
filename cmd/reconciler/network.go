package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	moby "github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

func init() {
	commands = append(commands, newNetworkCmd)
}

// newNetworkCmd is `reconciler network ls|inspect`, in docker network's
// spelling: the engine's networks are host and none.
func newNetworkCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "network",
		Short: "List and inspect networks (host and none)",
	}
	cmd.AddCommand(newNetworkLsCmd(), newNetworkInspectCmd())
	return cmd
}

func newNetworkLsCmd() *cobra.Command {
	var quiet bool
	cmd := &cobra.Command{
		Use:     "ls [OPTIONS]",
		Aliases: []string{"list"},
		Short:   "List networks",
		Args:    imageArgs(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return viaAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				res, err := c.NetworkList(ctx, moby.NetworkListOptions{})
				if err != nil {
					return err
				}
				// docker's table: minwidth 10, padding 3; IDs cut to 12.
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 10, 1, 3, ' ', 0)
				if !quiet {
					fmt.Fprintln(tw, "NETWORK ID\tNAME\tDRIVER\tSCOPE")
				}
				for _, n := range res.Items {
					if quiet {
						fmt.Fprintln(tw, n.ID[:12])
					} else {
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", n.ID[:12], n.Name, n.Driver, n.Scope)
					}
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "Only display network IDs")
	return cmd
}

func newNetworkInspectCmd() *cobra.Command {
	return newRawInspectCmd("inspect [OPTIONS] NETWORK [NETWORK...]", "Display detailed information on one or more networks",
		"Format output using a Go template (e.g. '{{.Driver}}')",
		func(ctx context.Context, c *moby.Client, ref string) (json.RawMessage, error) {
			res, err := c.NetworkInspect(ctx, ref, moby.NetworkInspectOptions{})
			return res.Raw, err
		})
}
