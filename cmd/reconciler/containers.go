package main

import (
	"context"
	"fmt"
	"strings"

	moby "github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// The container commands, in docker's spelling and output formats. They
// all speak the Docker Engine API through apiClient (see engine.go), so
// they work the same on the engine of --root, on the daemon serving it
// and on any Docker-API engine given with -H.

func init() {
	commands = append(commands, newContainerCmd,
		newRunCmd, newCreateCmd, newPsCmd, newLogsCmd, newStopCmd, newStartCmd, newRestartCmd,
		newKillCmd, newRmCmd, newWaitCmd, newInspectCmd, newExecCmd, newCommitCmd)
}

// newContainerCmd is `reconciler container`, docker container's group;
// the same commands are also at the top level, as in docker.
func newContainerCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "container", Short: "Manage containers"}
	ls := newPsCmd()
	ls.Use, ls.Aliases = "ls [OPTIONS]", []string{"list", "ps"}
	rm := newRmCmd()
	rm.Aliases = []string{"remove"}
	inspect := newInspectCmd()
	inspect.Use, inspect.Short = "inspect [OPTIONS] CONTAINER [CONTAINER...]", "Display detailed information on one or more containers"
	inspect.Flags().Set("type", "container")
	cmd.AddCommand(newRunCmd(), newCreateCmd(), ls, newLogsCmd(), newStopCmd(), newStartCmd(), newRestartCmd(),
		newKillCmd(), rm, newContainerPruneCmd(), newWaitCmd(), inspect, newExecCmd(), newCommitCmd(),
		newCpCmd(), newContainerDiffCmd(), newExportCmd())
	cmd.AddCommand(newRenameCmd(), newTopCmd(), newStatsCmd(), newUpdateCmd())
	return cmd
}

// newContainerDiffCmd is `reconciler container diff CONTAINER`.
func newContainerDiffCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "diff CONTAINER",
		Short: "Inspect changes to files or directories on a container's filesystem",
		Args:  containerArgs(1, 1),
		RunE:  func(cmd *cobra.Command, args []string) error { return containerDiff(cmd, args[0]) },
	}
}

// startsContainer is the annotation of the commands that start a
// container (run, start, restart): served in process, their engine has a
// shim booting from the start, beside the create and the API calls.
const startsContainer = "reconciler/starts-container"

// withAPI runs fn with a Docker API client for the command and closes
// whatever apiClient opened for it afterwards.
func withAPI(cmd *cobra.Command, fn func(ctx context.Context, c *moby.Client) error) error {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	c, done, err := apiClient(ctx, cmd.Annotations[startsContainer] != "")
	if err != nil {
		return err
	}
	defer done()
	return fn(ctx, c)
}

// daemonError ends the command with exit code 1 and the error as docker
// prints it ("Error response from daemon: No such container: x").
func daemonError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := err.(*exitError); ok {
		return err
	}
	return &exitError{code: 1, msg: err.Error()}
}

// containerArgs checks the positional argument count, docker-style: a
// usage error (exit 2) naming the command.
func containerArgs(min, max int) cobra.PositionalArgs {
	return imageArgs(min, max)
}

func containerUsageError(cmd *cobra.Command, msg string) error {
	return imageUsageError(cmd, msg)
}

// eachContainer applies fn to every container named, printing each name
// as typed once done (as docker stop/start/kill/rm do); failures are
// printed together at the end and the command exits 1.
func eachContainer(cmd *cobra.Command, refs []string, fn func(ctx context.Context, c *moby.Client, ref string) error) error {
	return withAPI(cmd, func(ctx context.Context, c *moby.Client) error {
		var failed []string
		for _, ref := range refs {
			if err := fn(ctx, c, ref); err != nil {
				failed = append(failed, err.Error())
				continue
			}
			fmt.Fprintln(cmd.OutOrStdout(), ref)
		}
		if len(failed) > 0 {
			return &exitError{code: 1, msg: strings.Join(failed, "\n")}
		}
		return nil
	})
}

// parseFilterFlags reads docker's --filter name=value flags.
func parseFilterFlags(flags []string) (moby.Filters, error) {
	f := moby.Filters{}
	for _, kv := range flags {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("bad format of filter %q (expected name=value)", kv)
		}
		f.Add(k, v)
	}
	return f, nil
}
