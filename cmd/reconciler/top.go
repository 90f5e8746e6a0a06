package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	moby "github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

func init() { commands = append(commands, newTopCmd) }

func newTopCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:                   "top CONTAINER [ps OPTIONS]",
		DisableFlagsInUseLine: true,
		Short:                 "Display the running processes of a container",
		Long:                  "List a running container's processes as ps on the host shows them (ps -ef unless ps options\nare given), in docker top's table.",
		Args:                  containerArgs(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return viaAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				top, err := c.ContainerTop(ctx, args[0], moby.ContainerTopOptions{Arguments: args[1:]})
				if err != nil {
					return err
				}
				// docker top's table: columns at least 20 wide, 3 apart.
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 20, 1, 3, ' ', 0)
				fmt.Fprintln(w, strings.Join(top.Titles, "\t"))
				for _, p := range top.Processes {
					fmt.Fprintln(w, strings.Join(p, "\t"))
				}
				return w.Flush()
			})
		},
	}
	// ps options follow the container, as in docker: not ours to parse.
	cmd.Flags().SetInterspersed(false)
	return cmd
}
