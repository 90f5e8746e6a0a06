package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/term"
	"github.com/spf13/cobra"
)

// streams say how a command connects to a container's (or exec's) stdio:
// Stdin sends this command's input; TTY means the container has a
// terminal, so its output is one raw stream (no stdcopy frames) and this
// command's own terminal is put in raw mode and sized like it.
type streams struct {
	Stdin, TTY bool
}

// errNotATTY is docker's refusal of -it when stdin is not a terminal.
var errNotATTY = errors.New("the input device is not a TTY")

// checkTTY refuses -i with -t when this command's stdin is not a terminal
// (typed keys could not reach the container's terminal as keys).
func checkTTY(cmd *cobra.Command, s streams) error {
	if s.TTY && s.Stdin {
		if _, isTerm := term.GetFdInfo(cmd.InOrStdin()); !isTerm {
			return errNotATTY
		}
	}
	return nil
}

// terminalSize is the height and width of this command's output terminal;
// nil when it is not one (or reports 0x0), like docker's CLI.
func terminalSize(cmd *cobra.Command) *[2]uint {
	fd, isTerm := term.GetFdInfo(cmd.OutOrStdout())
	if !isTerm {
		return nil
	}
	ws, err := term.GetWinsize(fd)
	if err != nil || ws.Height == 0 || ws.Width == 0 {
		return nil
	}
	return &[2]uint{uint(ws.Height), uint(ws.Width)}
}

// rawInput puts this command's stdin terminal in raw mode, so every key
// (Ctrl-C included) goes to the container's terminal, which does the
// echoing and line editing. The returned func restores it.
func rawInput(cmd *cobra.Command, s streams) func() {
	if !s.TTY || !s.Stdin {
		return func() {}
	}
	fd, isTerm := term.GetFdInfo(cmd.InOrStdin())
	if !isTerm {
		return func() {}
	}
	state, err := term.MakeRaw(fd)
	if err != nil {
		return func() {}
	}
	return func() { term.RestoreTerminal(fd, state) }
}

// followSize sends this command's terminal size through resize now and
// whenever it changes (SIGWINCH) until the returned func is called.
func followSize(ctx context.Context, cmd *cobra.Command, s streams, resize func(ctx context.Context, height, width uint)) func() {
	if !s.TTY || terminalSize(cmd) == nil {
		return func() {}
	}
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	done := make(chan struct{})
	send := func() {
		if sz := terminalSize(cmd); sz != nil {
			resize(ctx, sz[0], sz[1])
		}
	}
	send()
	go func() {
		for {
			select {
			case <-winch:
				send()
			case <-done:
				return
			}
		}
	}()
	return func() {
		signal.Stop(winch)
		close(done)
	}
}

// copyOutput copies a container's output stream to this command's:
// raw with a terminal, demultiplexed (stdout, stderr) otherwise.
func copyOutput(cmd *cobra.Command, s streams, src io.Reader) error {
	if s.TTY {
		_, err := io.Copy(cmd.OutOrStdout(), src)
		return err
	}
	_, err := stdcopy.StdCopy(cmd.OutOrStdout(), cmd.ErrOrStderr(), src)
	return err
}
