package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	moby "github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// runFailed is docker run's exit code when the container could not be
// created or started (the command's own code is the container's).
const runFailed = 125

func newRunCmd() *cobra.Command {
	var o createOptions
	var detach, sigProxy bool
	cmd := &cobra.Command{
		Use:                   "run [OPTIONS] IMAGE [COMMAND] [ARG...]",
		DisableFlagsInUseLine: true,
		Short:                 "Create and run a new container from an image",
		Annotations:           map[string]string{startsContainer: "yes"},
		Long: "Create and run a new container from an image. Attached (the default), the container's output is\n" +
			"printed and the command exits with the container's exit code; with -d the container's ID is printed.",
		Args: containerArgs(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, hc, err := o.config(cmd.Flags(), args[0], args[1:])
			if err != nil {
				return containerUsageError(cmd, err.Error())
			}
			sio := streams{Stdin: cfg.OpenStdin, TTY: cfg.Tty}
			if !detach {
				if err := checkTTY(cmd, sio); err != nil {
					return &exitError{code: 1, msg: "reconciler: " + err.Error()}
				}
			}
			if sz := terminalSize(cmd); cfg.Tty && sz != nil {
				hc.ConsoleSize = *sz
			}
			if detach {
				cfg.AttachStdout, cfg.AttachStderr = false, false
			}
			return withAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				id, err := createContainer(ctx, cmd, c, o.name, cfg, hc)
				if err != nil {
					return err
				}
				// With --rm the engine removes the container once it has
				// exited; this is for a container that never ran (or an
				// engine that went away).
				remove := func() {
					if o.autoRemove {
						c.ContainerRemove(context.WithoutCancel(ctx), id, moby.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
					}
				}
				if detach {
					if _, err := c.ContainerStart(ctx, id, moby.ContainerStartOptions{}); err != nil {
						remove()
						return runError(cmd, startExitCode(err), err)
					}
					if o.autoRemove && servedInProcess(c) {
						fmt.Fprintf(cmd.ErrOrStderr(), "WARNING: no daemon serves %s, so --rm cannot act once this command ends: remove the container with 'reconciler rm' after it exits, or start 'reconciler daemon'\n", global.root)
					}
					fmt.Fprintln(cmd.OutOrStdout(), id)
					return nil
				}
				// With --rm, as docker does: the engine's removal ends the
				// wait, which still gets the exit code.
				until := container.WaitConditionNextExit
				if o.autoRemove {
					until = container.WaitConditionRemoved
				}
				// Signals typed on a terminal reach the container through it.
				code, err := attachAndStart(ctx, cmd, c, id, until, sio, sigProxy && !cfg.Tty, func(err error) error {
					return runError(cmd, startExitCode(err), err)
				})
				if err != nil {
					remove()
					return err
				}
				return containerExit(code)
			})
		},
	}
	f := cmd.Flags()
	o.addFlags(f)
	f.BoolVarP(&detach, "detach", "d", false, "Run container in background and print container ID")
	f.BoolVar(&sigProxy, "sig-proxy", true, "Proxy received signals to the process")
	return cmd
}

func newCreateCmd() *cobra.Command {
	var o createOptions
	cmd := &cobra.Command{
		Use:                   "create [OPTIONS] IMAGE [COMMAND] [ARG...]",
		DisableFlagsInUseLine: true,
		Short:                 "Create a new container",
		Args:                  containerArgs(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, hc, err := o.config(cmd.Flags(), args[0], args[1:])
			if err != nil {
				return containerUsageError(cmd, err.Error())
			}
			return withAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				id, err := createContainer(ctx, cmd, c, o.name, cfg, hc)
				if err == nil {
					fmt.Fprintln(cmd.OutOrStdout(), id)
				}
				return err
			})
		},
	}
	o.addFlags(cmd.Flags())
	return cmd
}

// createContainer creates the container and prints the daemon's warnings.
// A missing image is not pulled behind the user's back: the error says
// how to get it.
func createContainer(ctx context.Context, cmd *cobra.Command, c *moby.Client, name string, cfg *container.Config, hc *container.HostConfig) (string, error) {
	res, err := c.ContainerCreate(ctx, moby.ContainerCreateOptions{Name: name, Config: cfg, HostConfig: hc})
	if err != nil {
		if cerrdefs.IsNotFound(err) && strings.Contains(err.Error(), "image") {
			img := cfg.Image
			return "", &exitError{code: runFailed, msg: fmt.Sprintf("Unable to find image '%s' locally\n%s\n"+
				"Build it (reconciler build -t %s DIR), load it (reconciler load -i FILE) or pull it (reconciler pull %s), then try again.",
				img, err, img, img)}
		}
		return "", runError(cmd, runFailed, err)
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(cmd.ErrOrStderr(), "WARNING:", w)
	}
	return res.ID, nil
}

// runError is docker run's way to fail: the error, a hint, and code.
func runError(cmd *cobra.Command, code int, err error) error {
	return &exitError{code: code, msg: fmt.Sprintf("reconciler: %v\n\nRun '%s --help' for more information", err, cmd.CommandPath())}
}

// startExitCode is docker's code for a container that could not start:
// 127 for a command not found, 126 for one that cannot be run.
func startExitCode(err error) int {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "executable file not found") || strings.Contains(msg, "no such file or directory"):
		return 127
	case strings.Contains(msg, "permission denied"):
		return 126
	}
	return runFailed
}

// attachAndStart is docker run (attached) and start -a: attach to the
// output, register the wait (until the next exit, or the removal) BEFORE
// start so no exit is missed (the wait's response headers arrive before
// ContainerWait returns), start, copy the output until the stream ends and
// exit with the container's code.
// startFailed turns a start error into the command's error.
// With stdin (run -i), the command's input goes to the container, and its
// end closes the container's stdin. With a terminal (run -t), output is
// raw, a terminal stdin is put in raw mode, and the container's terminal
// follows this one's size.
func attachAndStart(ctx context.Context, cmd *cobra.Command, c *moby.Client, id string, until container.WaitCondition, sio streams, sigProxy bool, startFailed func(error) error) (int64, error) {
	att, err := c.ContainerAttach(ctx, id, moby.ContainerAttachOptions{Stream: true, Stdin: sio.Stdin, Stdout: true, Stderr: true})
	if err != nil {
		return 0, startFailed(err)
	}
	defer rawInput(cmd, sio)()
	if sio.Stdin {
		go func() {
			io.Copy(att.Conn, cmd.InOrStdin())
			att.CloseWrite()
		}()
	}
	wait := c.ContainerWait(ctx, id, moby.ContainerWaitOptions{Condition: until})
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		copyOutput(cmd, sio, att.Reader)
	}()
	defer func() {
		att.Close() // ends the copy if the stream is still open
		<-copied
	}()
	if _, err := c.ContainerStart(ctx, id, moby.ContainerStartOptions{}); err != nil {
		return 0, startFailed(err)
	}
	if sigProxy {
		defer proxySignals(ctx, c, id)()
	}
	defer followSize(ctx, cmd, sio, func(ctx context.Context, h, w uint) {
		c.ContainerResize(ctx, id, moby.ContainerResizeOptions{Height: h, Width: w})
	})()
	select {
	case res := <-wait.Result:
		if res.Error != nil && res.Error.Message != "" {
			return 0, &exitError{code: runFailed, msg: "reconciler: " + res.Error.Message}
		}
		// The stream ends when the container's output is closed; a
		// container restarted by its policy may keep it open.
		select {
		case <-copied:
		case <-time.After(5 * time.Second):
		}
		return res.StatusCode, nil
	case err := <-wait.Error:
		return 0, daemonError(err)
	}
}

// containerExit is the command's result for a container that exited with code.
func containerExit(code int64) error {
	if code != 0 {
		return &exitError{code: int(code)}
	}
	return nil
}

// servedInProcess tells whether c reaches the engine this command serves
// itself (see serveInProcess), which ends with the command.
func servedInProcess(c *moby.Client) bool {
	return c.DaemonHost() == inProcessHost()
}

// proxySignals forwards the signals a user sends this command to the
// container (docker's --sig-proxy); the returned func stops it.
func proxySignals(ctx context.Context, c *moby.Client, id string) func() {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				if n, ok := s.(syscall.Signal); ok {
					c.ContainerKill(ctx, id, moby.ContainerKillOptions{Signal: strconv.Itoa(int(n))})
				}
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(sigs)
		close(done)
	}
}
