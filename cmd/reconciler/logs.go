package main

import (
	"context"
	"io"
	"os/signal"
	"syscall"

	"github.com/moby/moby/api/pkg/stdcopy"
	moby "github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

func newLogsCmd() *cobra.Command {
	var o moby.ContainerLogsOptions
	cmd := &cobra.Command{
		Use:                   "logs [OPTIONS] CONTAINER",
		DisableFlagsInUseLine: true,
		Short:                 "Fetch the logs of a container",
		Long:                  "Fetch the logs of a container: its stdout here on stdout, its stderr on stderr. With -f, follow\nthe output until the container stops or the command is interrupted.",
		Args:                  containerArgs(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.ShowStdout, o.ShowStderr = true, true
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			cmd.SetContext(ctx)
			return withAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				// Inspect first, as docker: the full ID for the request,
				// and Tty decides whether the stream is framed.
				info, err := c.ContainerInspect(ctx, args[0], moby.ContainerInspectOptions{})
				if err != nil {
					return daemonError(err)
				}
				r, err := c.ContainerLogs(ctx, info.Container.ID, o)
				if err != nil {
					return daemonError(err)
				}
				defer r.Close()
				if info.Container.Config != nil && info.Container.Config.Tty {
					_, err = io.Copy(cmd.OutOrStdout(), r)
				} else {
					_, err = stdcopy.StdCopy(cmd.OutOrStdout(), cmd.ErrOrStderr(), r)
				}
				if err != nil && ctx.Err() != nil {
					return nil // interrupted while following
				}
				return daemonError(err)
			})
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.Follow, "follow", "f", false, "Follow log output")
	f.StringVarP(&o.Tail, "tail", "n", "all", "Number of lines to show from the end of the logs")
	f.BoolVarP(&o.Timestamps, "timestamps", "t", false, "Show timestamps")
	f.StringVar(&o.Since, "since", "", "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 minutes)")
	f.StringVar(&o.Until, "until", "", "Show logs before a timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. \"42m\" for 42 minutes)")
	return cmd
}
