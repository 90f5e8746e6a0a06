package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/moby/moby/api/types/container"
	moby "github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// The lifecycle commands: stop, start, restart, kill, rm and wait, each
// on one or more containers, printing each one's name as typed.

func newStopCmd() *cobra.Command {
	var timeout int
	var signal string
	cmd := &cobra.Command{
		Use:                   "stop [OPTIONS] CONTAINER [CONTAINER...]",
		DisableFlagsInUseLine: true,
		Short:                 "Stop one or more running containers",
		Long:                  "Stop containers: the stop signal (the container's, or -s), then SIGKILL once the timeout\n(the container's, or -t seconds) has passed.",
		Args:                  containerArgs(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o := moby.ContainerStopOptions{Signal: signal}
			if cmd.Flags().Changed("timeout") {
				o.Timeout = &timeout
			}
			return eachContainer(cmd, args, func(ctx context.Context, c *moby.Client, ref string) error {
				_, err := c.ContainerStop(ctx, ref, o)
				return err
			})
		},
	}
	cmd.Flags().IntVarP(&timeout, "timeout", "t", 0, "Seconds to wait before killing the container")
	cmd.Flags().StringVarP(&signal, "signal", "s", "", "Signal to send to the container")
	return cmd
}

func newRestartCmd() *cobra.Command {
	var timeout int
	var signal string
	cmd := &cobra.Command{
		Use:                   "restart [OPTIONS] CONTAINER [CONTAINER...]",
		DisableFlagsInUseLine: true,
		Short:                 "Restart one or more containers",
		Annotations:           map[string]string{startsContainer: "yes"},
		Args:                  containerArgs(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o := moby.ContainerRestartOptions{Signal: signal}
			if cmd.Flags().Changed("timeout") {
				o.Timeout = &timeout
			}
			return eachContainer(cmd, args, func(ctx context.Context, c *moby.Client, ref string) error {
				_, err := c.ContainerRestart(ctx, ref, o)
				return err
			})
		},
	}
	cmd.Flags().IntVarP(&timeout, "timeout", "t", 0, "Seconds to wait before killing the container")
	cmd.Flags().StringVarP(&signal, "signal", "s", "", "Signal to send to the container")
	return cmd
}

func newKillCmd() *cobra.Command {
	var signal string
	cmd := &cobra.Command{
		Use:                   "kill [OPTIONS] CONTAINER [CONTAINER...]",
		DisableFlagsInUseLine: true,
		Short:                 "Kill one or more running containers",
		Args:                  containerArgs(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return eachContainer(cmd, args, func(ctx context.Context, c *moby.Client, ref string) error {
				_, err := c.ContainerKill(ctx, ref, moby.ContainerKillOptions{Signal: signal})
				return err
			})
		},
	}
	cmd.Flags().StringVarP(&signal, "signal", "s", "", "Signal to send to the container (default SIGKILL)")
	return cmd
}

func newRmCmd() *cobra.Command {
	var o moby.ContainerRemoveOptions
	cmd := &cobra.Command{
		Use:                   "rm [OPTIONS] CONTAINER [CONTAINER...]",
		DisableFlagsInUseLine: true,
		Short:                 "Remove one or more containers",
		Long:                  "Remove containers and their container layers. A running container is refused unless -f is given\n(then it is killed first). Named volumes are kept.",
		Args:                  containerArgs(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return eachContainer(cmd, args, func(ctx context.Context, c *moby.Client, ref string) error {
				_, err := c.ContainerRemove(ctx, ref, o)
				return err
			})
		},
	}
	cmd.Flags().BoolVarP(&o.Force, "force", "f", false, "Force the removal of a running container (uses SIGKILL)")
	cmd.Flags().BoolVarP(&o.RemoveVolumes, "volumes", "v", false, "Remove anonymous volumes associated with the container")
	return cmd
}

func newContainerPruneCmd() *cobra.Command {
	var force bool
	var filters []string
	cmd := &cobra.Command{
		Use:                   "prune [OPTIONS]",
		DisableFlagsInUseLine: true,
		Short:                 "Remove all stopped containers",
		Args:                  containerArgs(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := parseFilterFlags(filters)
			if err != nil {
				return containerUsageError(cmd, err.Error())
			}
			if !force {
				ok, err := confirmPrompt(cmd.InOrStdin(), cmd.OutOrStdout(), "WARNING! This will remove all stopped containers.")
				if err != nil || !ok {
					return err
				}
			}
			return withAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				res, err := c.ContainerPrune(ctx, moby.ContainerPruneOptions{Filters: f})
				if err != nil {
					return daemonError(err)
				}
				out := cmd.OutOrStdout()
				if len(res.Report.ContainersDeleted) > 0 {
					fmt.Fprintln(out, "Deleted Containers:")
					for _, id := range res.Report.ContainersDeleted {
						fmt.Fprintln(out, id)
					}
					fmt.Fprintln(out)
				}
				fmt.Fprintln(out, "Total reclaimed space:", imageHumanSize(int64(res.Report.SpaceReclaimed)))
				return nil
			})
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	cmd.Flags().StringArrayVar(&filters, "filter", nil, "Provide filter values (e.g. label=KEY[=VALUE], until=TIMESTAMP)")
	return cmd
}

func newStartCmd() *cobra.Command {
	var attach bool
	cmd := &cobra.Command{
		Use:                   "start [OPTIONS] CONTAINER [CONTAINER...]",
		DisableFlagsInUseLine: true,
		Short:                 "Start one or more stopped containers",
		Annotations:           map[string]string{startsContainer: "yes"},
		Long:                  "Start containers. With -a, print the container's output and exit with its exit code.",
		Args:                  containerArgs(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !attach {
				return eachContainer(cmd, args, func(ctx context.Context, c *moby.Client, ref string) error {
					_, err := c.ContainerStart(ctx, ref, moby.ContainerStartOptions{})
					return err
				})
			}
			if len(args) > 1 {
				return containerUsageError(cmd, "you cannot start and attach multiple containers at once")
			}
			return withAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				info, err := c.ContainerInspect(ctx, args[0], moby.ContainerInspectOptions{})
				if err != nil {
					return daemonError(err)
				}
				tty := info.Container.Config != nil && info.Container.Config.Tty
				code, err := attachAndStart(ctx, cmd, c, info.Container.ID, container.WaitConditionNextExit, streams{TTY: tty}, !tty, daemonError)
				if err != nil {
					return err
				}
				return containerExit(code)
			})
		},
	}
	cmd.Flags().BoolVarP(&attach, "attach", "a", false, "Attach STDOUT/STDERR and forward signals")
	return cmd
}

func newWaitCmd() *cobra.Command {
	return &cobra.Command{
		Use:                   "wait CONTAINER [CONTAINER...]",
		DisableFlagsInUseLine: true,
		Short:                 "Block until one or more containers stop, then print their exit codes",
		Args:                  containerArgs(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				var failed []string
				for _, ref := range args {
					w := c.ContainerWait(ctx, ref, moby.ContainerWaitOptions{})
					select {
					case res := <-w.Result:
						if res.Error != nil && res.Error.Message != "" {
							failed = append(failed, "Error response from daemon: "+res.Error.Message)
							continue
						}
						fmt.Fprintln(cmd.OutOrStdout(), res.StatusCode)
					case err := <-w.Error:
						failed = append(failed, err.Error())
					}
				}
				if len(failed) > 0 {
					return &exitError{code: 1, msg: strings.Join(failed, "\n")}
				}
				return nil
			})
		},
	}
}
