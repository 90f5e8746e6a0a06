package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/reconciler/reconciler/reconcile"
)

func init() {
	commands = append(commands, newDiffCmd)
}

func newDiffCmd() *cobra.Command {
	var mf manifestFlags
	var prune bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "diff -f PATH... [-R] [--prune] | diff CONTAINER",
		Short: "Show what apply would change, field by field (or a container's changes)",
		Long: `With a CONTAINER, diff lists the files the container added (A), changed
(C) or deleted (D) against its image, as docker diff does.

With -f, diff compares the manifests with what the hosts have and prints the actions
apply would take, each with the fields that call for it:

  ~ recreate container/web
      spec.env[PORT]: "8080" -> "9090"

It changes nothing. Like kubectl diff, it exits 0 when there is no
difference, 1 when there are differences, and above 1 on errors.`,
		Example: `  reconciler diff -f examples/`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 && len(mf.files) == 0 {
				return nil // docker diff CONTAINER
			}
			return noArgs(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				return containerDiff(cmd, args[0])
			}
			objs, files, err := mf.loadSources(cmd)
			if err != nil {
				return &exitError{code: 2, msg: errMsg(err)}
			}
			var eng engines
			defer eng.close()
			opts := reconcile.Options{Engines: eng.get, Prunable: never}
			if prune {
				opts.Prunable = mf.pruneScope()
			}
			c, err := reconcile.New(opts)
			if err != nil {
				return err
			}
			ctx, cancel := signalContext(cmd, timeout)
			defer cancel()
			acts, err := c.Plan(ctx, objs, files)
			printPlan(cmd.OutOrStdout(), acts)
			if err != nil {
				return &exitError{code: 2, msg: "Error: " + err.Error()}
			}
			if len(acts) > 0 {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	mf.register(cmd)
	cmd.Flags().BoolVar(&prune, "prune", false, "also show what apply --prune would remove")
	cmd.Flags().DurationVar(&timeout, "timeout", time.Minute, "give up after this long")
	return cmd
}

// printPlan writes one action per line, marked + (new), - (removed) or
// ~ (changed), with its reasons indented below.
func printPlan(w io.Writer, acts []reconcile.Action) {
	for _, a := range acts {
		mark := "~"
		switch a.Verb {
		case "create", "build", "pull", "import":
			mark = "+"
		case "remove":
			mark = "-"
		}
		fmt.Fprintf(w, "%s %s\n", mark, reconcile.Action{Verb: a.Verb, Key: a.Key})
		for _, r := range a.Reasons {
			fmt.Fprintf(w, "    %s\n", r)
		}
	}
}

// errMsg is the text an exitError carries for err (empty when err already
// printed its own).
func errMsg(err error) string {
	if ee, ok := err.(*exitError); ok {
		return ee.msg
	}
	return "Error: " + err.Error()
}
