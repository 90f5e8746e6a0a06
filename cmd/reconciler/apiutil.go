package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/moby/moby/api/types/jsonstream"
	moby "github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/jsonmessage"
	"github.com/spf13/cobra"
)

// Helpers for commands that speak the Docker API through apiClient (with
// withAPI and daemonError in containers.go), so they print and fail as
// the docker CLI does.

// viaAPI is withAPI whose failures end the command as docker's do: exit
// code 1 and the error as the client words it ("Error response from
// daemon: ..."), or the engine's own message for a failed stream.
func viaAPI(cmd *cobra.Command, fn func(ctx context.Context, c *moby.Client) error) error {
	return daemonError(withAPI(cmd, fn))
}

// displayStream prints a JSON-message stream (build, pull, push, load,
// import progress) as the docker CLI does, progress bars only on a
// terminal; aux, if not nil, receives the messages carrying an Aux field.
// A message carrying an error ends the display with that error.
func displayStream(body io.Reader, out io.Writer, aux func(jsonstream.Message)) error {
	var opts []jsonmessage.DisplayOpt
	if aux != nil {
		opts = append(opts, jsonmessage.WithAuxCallback(aux))
	}
	return jsonmessage.DisplayStream(body, out, opts...)
}

// checkFilterKeys refuses filters outside allowed as bad usage, before
// the engine is asked (docker lets the engine refuse them, with exit 1).
func checkFilterKeys(f moby.Filters, allowed ...string) error {
	for _, k := range sortedKeys(f) {
		if !slices.Contains(allowed, k) {
			return fmt.Errorf("invalid filter %q: supported are %s", k, strings.Join(allowed, ", "))
		}
	}
	return nil
}

func sortedKeys(f moby.Filters) []string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
