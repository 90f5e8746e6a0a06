package main

import (
	"context"

	moby "github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

func init() { commands = append(commands, newRenameCmd) }

func newRenameCmd() *cobra.Command {
	return &cobra.Command{
		Use:                   "rename CONTAINER NEW_NAME",
		DisableFlagsInUseLine: true,
		Short:                 "Rename a container",
		Long:                  "Give a container, running or not, a new name; the old one is free at once. Prints nothing.",
		Args:                  containerArgs(2, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return viaAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				_, err := c.ContainerRename(ctx, args[0], moby.ContainerRenameOptions{NewName: args[1]})
				return err
			})
		},
	}
}
