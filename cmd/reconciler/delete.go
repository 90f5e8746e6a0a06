package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/spec"
)

func init() {
	commands = append(commands, newDeleteCmd)
}

func newDeleteCmd() *cobra.Command {
	var mf manifestFlags
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "delete -f PATH... [-R]",
		Short: "Remove the objects the manifests declare",
		Long: `Delete removes the managed containers, images and volumes the manifests
declare: containers first (stopped with their grace period), then what they
used. Volumes with reclaimPolicy Retain (the default) are kept, and it says
so: their data is removed only by hand. Objects that reconciler does not
manage are never touched.`,
		Example: `  reconciler delete -f examples/`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			objs, _, err := mf.loadSources(cmd)
			if err != nil {
				return err
			}
			var eng engines
			defer eng.close()
			c, err := reconcile.New(reconcile.Options{Engines: eng.get, Out: cmd.OutOrStdout(), Prunable: never})
			if err != nil {
				return err
			}
			keys := make([]spec.Key, len(objs))
			for i, o := range objs {
				keys[i] = o.Key
			}
			ctx, cancel := signalContext(cmd, timeout)
			defer cancel()
			if err := c.Delete(ctx, keys); err != nil {
				return &exitError{code: 1, msg: "Error: " + err.Error()}
			}
			return nil
		},
	}
	mf.register(cmd)
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Minute, "give up after this long")
	return cmd
}
