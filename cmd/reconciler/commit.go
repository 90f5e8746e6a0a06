package main

import (
	"context"
	"fmt"

	moby "github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

func newCommitCmd() *cobra.Command {
	var o moby.ContainerCommitOptions
	var pause bool
	cmd := &cobra.Command{
		Use:                   "commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]",
		DisableFlagsInUseLine: true,
		Short:                 "Create a new image from a container's changes",
		Long:                  "Turn a container's layer (its changes to the image) into a new image, tagged REPOSITORY[:TAG] if\ngiven. -c applies Dockerfile instructions (CMD, ENTRYPOINT, ENV, ...) to its config. Prints the image ID.",
		Args:                  containerArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 2 {
				o.Reference = args[1]
			}
			o.NoPause = !pause
			return withAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				res, err := c.ContainerCommit(ctx, args[0], o)
				if err != nil {
					return daemonError(err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), res.ID)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.Author, "author", "a", "", "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")")
	f.StringArrayVarP(&o.Changes, "change", "c", nil, "Apply Dockerfile instruction to the created image")
	f.StringVarP(&o.Comment, "message", "m", "", "Commit message")
	f.BoolVarP(&pause, "pause", "p", true, "Pause container during commit")
	return cmd
}
