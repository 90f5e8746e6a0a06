package main

import (
	"context"
	"fmt"
	"io"

	moby "github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

func newExecCmd() *cobra.Command {
	var detach, interactive, tty bool
	var env, envFiles []string
	var workdir, user string
	cmd := &cobra.Command{
		Use:                   "exec [OPTIONS] CONTAINER COMMAND [ARG...]",
		DisableFlagsInUseLine: true,
		Short:                 "Execute a command in a running container",
		Long:                  "Run a command in a running container's namespaces. The command's output is printed and exec exits\nwith its exit code (126 when it cannot be run, 127 when it is not found). -i feeds it this command's stdin.",
		Args:                  containerArgs(2, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sio := streams{Stdin: interactive && !detach, TTY: tty}
			if !detach {
				if err := checkTTY(cmd, sio); err != nil {
					return &exitError{code: 1, msg: "reconciler: " + err.Error()}
				}
			}
			envs, err := readEnv(envFiles, env)
			if err != nil {
				return containerUsageError(cmd, err.Error())
			}
			o := moby.ExecCreateOptions{Cmd: args[1:], Env: envs, WorkingDir: workdir, User: user,
				AttachStdin: interactive && !detach, AttachStdout: !detach, AttachStderr: !detach, TTY: tty}
			if sz := terminalSize(cmd); tty && sz != nil {
				o.ConsoleSize = moby.ConsoleSize{Height: sz[0], Width: sz[1]}
			}
			return withAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				// docker inspects first: a missing container is a clear 404.
				info, err := c.ContainerInspect(ctx, args[0], moby.ContainerInspectOptions{})
				if err != nil {
					return daemonError(err)
				}
				if detach && servedInProcess(c) {
					return &exitError{code: 1, msg: fmt.Sprintf("Error: exec -d needs a daemon serving %s ('reconciler daemon'): without one the command would end with this process. Run it without -d.", global.root)}
				}
				ex, err := c.ExecCreate(ctx, info.Container.ID, o)
				if err != nil {
					return daemonError(err)
				}
				if detach {
					_, err := c.ExecStart(ctx, ex.ID, moby.ExecStartOptions{Detach: true, TTY: tty})
					return daemonError(err)
				}
				att, err := c.ExecAttach(ctx, ex.ID, moby.ExecAttachOptions{TTY: tty, ConsoleSize: o.ConsoleSize})
				if err != nil {
					return daemonError(err)
				}
				defer att.Close()
				defer rawInput(cmd, sio)()
				defer followSize(ctx, cmd, sio, func(ctx context.Context, h, w uint) {
					c.ExecResize(ctx, ex.ID, moby.ExecResizeOptions{Height: h, Width: w})
				})()
				if interactive {
					go func() {
						io.Copy(att.Conn, cmd.InOrStdin())
						att.CloseWrite()
					}()
				}
				if err := copyOutput(cmd, sio, att.Reader); err != nil {
					return daemonError(err)
				}
				res, err := c.ExecInspect(ctx, ex.ID, moby.ExecInspectOptions{})
				if err != nil {
					return daemonError(err)
				}
				if res.ExitCode != 0 {
					return &exitError{code: res.ExitCode}
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false) // flags after CONTAINER belong to the command
	f.BoolVarP(&detach, "detach", "d", false, "Detached mode: run command in the background")
	f.BoolVarP(&interactive, "interactive", "i", false, "Keep STDIN open and feed it to the command")
	f.BoolVarP(&tty, "tty", "t", false, "Allocate a pseudo-TTY")
	f.StringArrayVarP(&env, "env", "e", nil, "Set environment variables")
	f.StringArrayVar(&envFiles, "env-file", nil, "Read in a file of environment variables")
	f.StringVarP(&workdir, "workdir", "w", "", "Working directory inside the container")
	f.StringVarP(&user, "user", "u", "", "Username or UID (format: \"<name|uid>[:<group|gid>]\")")
	return cmd
}
