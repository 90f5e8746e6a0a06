package main

import (
	"context"

	"github.com/moby/moby/api/types/container"
	moby "github.com/moby/moby/client"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func init() { commands = append(commands, newUpdateCmd) }

// updateOptions are docker update's flags this engine can apply.
type updateOptions struct {
	memory, memorySwap, cpus, restart string
	cpuQuota, cpuPeriod, pidsLimit    int64
}

func newUpdateCmd() *cobra.Command {
	var o updateOptions
	cmd := &cobra.Command{
		Use:                   "update [OPTIONS] CONTAINER [CONTAINER...]",
		DisableFlagsInUseLine: true,
		Short:                 "Update configuration of one or more containers",
		Long: "Change the memory, CPU and pids limits and the restart policy of containers, running or not:\n" +
			"a running container's cgroup changes at once, and the change outlives restarts. Prints each name.",
		Args: containerArgs(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, err := o.options(cmd.Flags())
			if err != nil {
				return containerUsageError(cmd, err.Error())
			}
			return eachContainer(cmd, args, func(ctx context.Context, c *moby.Client, ref string) error {
				_, err := c.ContainerUpdate(ctx, ref, u)
				return err
			})
		},
	}
	f := cmd.Flags()
	f.StringVarP(&o.memory, "memory", "m", "", "Memory limit (e.g. 64m, 1g)")
	f.StringVar(&o.memorySwap, "memory-swap", "", "Swap limit equal to memory plus swap: equal to --memory, or -1")
	f.StringVar(&o.cpus, "cpus", "", "Number of CPUs (e.g. 0.5)")
	f.Int64Var(&o.cpuQuota, "cpu-quota", 0, "Limit CPU CFS (Completely Fair Scheduler) quota")
	f.Int64Var(&o.cpuPeriod, "cpu-period", 0, "Limit CPU CFS (Completely Fair Scheduler) period")
	f.Int64Var(&o.pidsLimit, "pids-limit", 0, "Tune container pids limit (set -1 for unlimited)")
	f.StringVar(&o.restart, "restart", "", "Restart policy to apply when a container exits")
	return cmd
}

// options reads the flags into the update request the docker CLI sends.
func (o *updateOptions) options(f *pflag.FlagSet) (moby.ContainerUpdateOptions, error) {
	r := &container.Resources{CPUQuota: o.cpuQuota, CPUPeriod: o.cpuPeriod}
	var err error
	if o.memory != "" {
		if r.Memory, err = bytesFlag("-m, --memory", o.memory); err != nil {
			return moby.ContainerUpdateOptions{}, err
		}
	}
	if o.memorySwap == "-1" {
		r.MemorySwap = -1
	} else if o.memorySwap != "" {
		if r.MemorySwap, err = bytesFlag("--memory-swap", o.memorySwap); err != nil {
			return moby.ContainerUpdateOptions{}, err
		}
	}
	if o.cpus != "" {
		if r.NanoCPUs, err = parseCPUs(o.cpus); err != nil {
			return moby.ContainerUpdateOptions{}, err
		}
	}
	if f.Changed("pids-limit") {
		p := o.pidsLimit
		r.PidsLimit = &p
	}
	u := moby.ContainerUpdateOptions{Resources: r}
	if o.restart != "" {
		p, err := parseRestart(o.restart)
		if err != nil {
			return moby.ContainerUpdateOptions{}, err
		}
		u.RestartPolicy = &p
	}
	return u, nil
}
