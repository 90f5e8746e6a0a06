package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	units "github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	moby "github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

func init() { commands = append(commands, newStatsCmd) }

func newStatsCmd() *cobra.Command {
	var noStream, all, noTrunc bool
	cmd := &cobra.Command{
		Use:                   "stats [OPTIONS] [CONTAINER...]",
		DisableFlagsInUseLine: true,
		Short:                 "Display a live stream of container(s) resource usage statistics",
		Long:                  "Show the CPU, memory, block I/O and task use of the containers named (else of every running\none, or with -a every one), redrawn every second until interrupted; --no-stream prints once.",
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			cmd.SetContext(ctx)
			return viaAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				refs := args
				if len(refs) == 0 {
					list, err := c.ContainerList(ctx, moby.ContainerListOptions{All: all})
					if err != nil {
						return err
					}
					for _, ct := range list.Items {
						refs = append(refs, ct.ID)
					}
				}
				t := &statsTable{refs: refs, rows: make([]*container.StatsResponse, len(refs)), noTrunc: noTrunc}
				if noStream {
					return t.once(ctx, c, cmd.OutOrStdout())
				}
				return t.stream(ctx, c, cmd.OutOrStdout())
			})
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&all, "all", "a", false, "Show all containers (default shows just running)")
	f.BoolVar(&noStream, "no-stream", false, "Disable streaming stats and only pull the first result")
	f.BoolVar(&noTrunc, "no-trunc", false, "Do not truncate output")
	return cmd
}

// statsTable is docker stats' table: the latest sample of each container.
type statsTable struct {
	refs    []string
	noTrunc bool
	mu      sync.Mutex
	rows    []*container.StatsResponse // nil: no sample yet
	errs    []string
}

// once takes one sample of every container at the same time (each with
// the engine's precpu a second earlier, for a real CPU %) and prints them.
func (t *statsTable) once(ctx context.Context, c *moby.Client, out io.Writer) error {
	<-t.followAll(ctx, c, moby.ContainerStatsOptions{IncludePreviousSample: true})
	t.print(out)
	return t.err()
}

// stream follows every container and redraws the table each second, as
// docker does (clear screen, home), until ctx ends or no stream is left.
func (t *statsTable) stream(ctx context.Context, c *moby.Client, out io.Writer) error {
	done := t.followAll(ctx, c, moby.ContainerStatsOptions{Stream: true})
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-done:
			t.redraw(out)
			return t.err()
		case <-tick.C:
			t.redraw(out)
		}
	}
}

// followAll follows every container at once; the channel is closed when
// every stream has ended.
func (t *statsTable) followAll(ctx context.Context, c *moby.Client, o moby.ContainerStatsOptions) <-chan struct{} {
	var wg sync.WaitGroup
	for i, ref := range t.refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.follow(ctx, c, i, ref, o)
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	return done
}

// err is the failures of the streams, reported together as docker does.
func (t *statsTable) err() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.errs) > 0 {
		return &exitError{code: 1, msg: strings.Join(t.errs, "\n")}
	}
	return nil
}

func (t *statsTable) redraw(out io.Writer) {
	fmt.Fprint(out, "\033[2J\033[H")
	t.print(out)
}

// follow reads ref's samples into row i until its stream ends.
func (t *statsTable) follow(ctx context.Context, c *moby.Client, i int, ref string, o moby.ContainerStatsOptions) {
	res, err := c.ContainerStats(ctx, ref, o)
	if err != nil {
		t.mu.Lock()
		t.errs = append(t.errs, err.Error())
		t.mu.Unlock()
		return
	}
	defer res.Body.Close()
	dec := json.NewDecoder(res.Body)
	for {
		var s container.StatsResponse
		if err := dec.Decode(&s); err != nil {
			return
		}
		t.mu.Lock()
		t.rows[i] = &s
		t.mu.Unlock()
	}
}

func (t *statsTable) print(out io.Writer) {
	t.mu.Lock()
	defer t.mu.Unlock()
	w := tabwriter.NewWriter(out, 10, 1, 3, ' ', 0) // docker's table
	fmt.Fprintln(w, "CONTAINER ID\tNAME\tCPU %\tMEM USAGE / LIMIT\tMEM %\tNET I/O\tBLOCK I/O\tPIDS")
	for _, s := range t.rows {
		if s != nil {
			fmt.Fprintln(w, t.row(s))
		}
	}
	w.Flush()
}

// row is one container's line, computed as the docker CLI computes it.
func (t *statsTable) row(s *container.StatsResponse) string {
	id, name := s.ID, strings.TrimPrefix(s.Name, "/")
	if !t.noTrunc && len(id) > 12 {
		id = id[:12]
	}
	if name == "" {
		name = "--"
	}
	mem := memNoCache(s.MemoryStats)
	memPerc := 0.0
	if s.MemoryStats.Limit != 0 {
		memPerc = mem / float64(s.MemoryStats.Limit) * 100
	}
	var rx, tx, rd, wr float64
	for _, n := range s.Networks {
		rx, tx = rx+float64(n.RxBytes), tx+float64(n.TxBytes)
	}
	for _, e := range s.BlkioStats.IoServiceBytesRecursive {
		switch strings.ToLower(e.Op) {
		case "read":
			rd += float64(e.Value)
		case "write":
			wr += float64(e.Value)
		}
	}
	return fmt.Sprintf("%s\t%s\t%.2f%%\t%s / %s\t%.2f%%\t%s / %s\t%s / %s\t%d", id, name, cpuPercent(s),
		units.BytesSize(mem), units.BytesSize(float64(s.MemoryStats.Limit)), memPerc,
		units.HumanSizeWithPrecision(rx, 3), units.HumanSizeWithPrecision(tx, 3),
		units.HumanSizeWithPrecision(rd, 3), units.HumanSizeWithPrecision(wr, 3), s.PidsStats.Current)
}

// cpuPercent is the container's share of the host's CPU time between the
// sample and its precpu sample, times the CPUs (100% = one CPU busy).
func cpuPercent(s *container.StatsResponse) float64 {
	cpu := float64(s.CPUStats.CPUUsage.TotalUsage) - float64(s.PreCPUStats.CPUUsage.TotalUsage)
	sys := float64(s.CPUStats.SystemUsage) - float64(s.PreCPUStats.SystemUsage)
	cpus := float64(s.CPUStats.OnlineCPUs)
	if cpus == 0 {
		cpus = float64(len(s.CPUStats.CPUUsage.PercpuUsage))
	}
	if sys > 0 && cpu > 0 {
		return cpu / sys * cpus * 100
	}
	return 0
}

// memNoCache is the memory use docker stats shows: without the page
// cache that can be dropped (inactive file pages; v1 and v2 keys).
func memNoCache(m container.MemoryStats) float64 {
	if v, ok := m.Stats["total_inactive_file"]; ok && v < m.Usage {
		return float64(m.Usage - v)
	}
	if v := m.Stats["inactive_file"]; v < m.Usage {
		return float64(m.Usage - v)
	}
	return float64(m.Usage)
}
