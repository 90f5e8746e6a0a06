package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"text/template"

	units "github.com/docker/go-units"
	apivolume "github.com/moby/moby/api/types/volume"
	moby "github.com/moby/moby/client"
	"github.com/spf13/cobra"

	"github.com/reconciler/reconciler/volumes"
)

func init() {
	commands = append(commands, newVolumeCmd)
}

// newVolumeCmd is `reconciler volume`, in docker volume's spelling and
// output formats, through the Docker API (see apiClient).
func newVolumeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "volume",
		Short: "Manage volumes",
	}
	cmd.AddCommand(newVolumeCreateCmd(), newVolumeLsCmd(), newVolumeInspectCmd(), newVolumeRmCmd(), newVolumePruneCmd())
	return cmd
}

func newVolumeCreateCmd() *cobra.Command {
	var name, driver string
	var labels []string
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] [VOLUME]",
		Short: "Create a volume",
		Long:  "Create a volume. Creating an existing volume with the same driver and labels returns it unchanged;\nwith other labels it is an error. Without a name, an anonymous volume with a random name is created.",
		Args:  imageArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if name != "" && name != args[0] {
					return usageError(cmd, "conflicting options: either specify --name or provide positional arg, not both")
				}
				name = args[0]
			}
			l, err := parseLabelFlags(labels)
			if err != nil {
				return usageError(cmd, err.Error())
			}
			return viaAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				res, err := c.VolumeCreate(ctx, moby.VolumeCreateOptions{Name: name, Driver: driver, Labels: l})
				if err != nil {
					return err
				}
				// The API returns an existing volume as it is; asking for
				// other labels is a mistake worth saying.
				v := res.Volume
				if name != "" && !maps.Equal(v.Labels, l) {
					return fmt.Errorf("Error: create %s: volume already exists with labels %s, not %s; remove it first or use the same labels", name, formatLabels(v.Labels), formatLabels(l))
				}
				fmt.Fprintln(cmd.OutOrStdout(), v.Name)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "Specify volume name")
	f.StringVarP(&driver, "driver", "d", volumes.DriverLocal, "Specify volume driver name (only \"local\")")
	f.StringArrayVar(&labels, "label", nil, "Set metadata for a volume (KEY=VALUE, repeatable)")
	return cmd
}

// formatLabels is a label set as errors show it: {k=v, k2=v2}.
func formatLabels(l map[string]string) string {
	var parts []string
	for _, k := range slices.Sorted(maps.Keys(l)) {
		parts = append(parts, k+"="+l[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// volumeFilterKeys are the filters volume ls accepts.
var volumeFilterKeys = []string{"label", "label!", "dangling", "name", "driver"}

func newVolumeLsCmd() *cobra.Command {
	var quiet bool
	var filters []string
	var format string
	cmd := &cobra.Command{
		Use:     "ls [OPTIONS]",
		Aliases: []string{"list"},
		Short:   "List volumes",
		Args:    imageArgs(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := parseFilterFlags(filters)
			if err == nil {
				err = checkFilterKeys(f, volumeFilterKeys...)
			}
			if err != nil {
				return usageError(cmd, err.Error())
			}
			var tmpl *template.Template
			if format != "" && format != "json" {
				if tmpl, err = template.New("").Funcs(template.FuncMap{"json": volumeJSON}).Parse(format); err != nil {
					return usageError(cmd, "template parsing error: "+err.Error())
				}
			}
			return viaAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				res, err := c.VolumeList(ctx, moby.VolumeListOptions{Filters: f})
				if err != nil {
					return err
				}
				vols := res.Items
				slices.SortFunc(vols, func(a, b apivolume.Volume) int { return strings.Compare(a.Name, b.Name) })
				return printVolumes(cmd.OutOrStdout(), vols, quiet, format, tmpl)
			})
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "Only display volume names")
	cmd.Flags().StringVar(&format, "format", "", "Format output: 'json', or a Go template over .Name .Driver .Scope .Mountpoint .Labels (e.g. '{{.Name}}', '{{.Label \"app\"}}')")
	cmd.Flags().StringArrayVarP(&filters, "filter", "f", nil, "Provide filter values (label=KEY[=VALUE], label!=KEY[=VALUE], dangling=true|false, name=PART, driver=local)")
	return cmd
}

// printVolumes is volume ls's output: names (-q), one JSON object or
// template line per volume (--format), or docker's table.
func printVolumes(out io.Writer, vols []apivolume.Volume, quiet bool, format string, tmpl *template.Template) error {
	if format != "" && !quiet {
		for _, v := range vols {
			row := newVolumeRow(v)
			if tmpl == nil {
				b, _ := json.Marshal(row)
				fmt.Fprintf(out, "%s\n", b)
				continue
			}
			if err := tmpl.Execute(out, row); err != nil {
				return fmt.Errorf("template: %w", err)
			}
			fmt.Fprintln(out)
		}
		return nil
	}
	if quiet {
		for _, v := range vols {
			fmt.Fprintln(out, v.Name)
		}
		return nil
	}
	// docker's table: minwidth 10, padding 3.
	tw := tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)
	fmt.Fprintln(tw, "DRIVER\tVOLUME NAME")
	for _, v := range vols {
		fmt.Fprintf(tw, "%s\t%s\n", v.Driver, v.Name)
	}
	return tw.Flush()
}

func newVolumeInspectCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] VOLUME [VOLUME...]",
		Short: "Display detailed information on one or more volumes",
		Args:  imageArgs(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var tmpl *template.Template
			if format != "" {
				var err error
				tmpl, err = template.New("").Funcs(template.FuncMap{"json": volumeJSON}).Parse(format)
				if err != nil {
					return usageError(cmd, "template parsing error: "+err.Error())
				}
			}
			return viaAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				found := []apivolume.Volume{}
				var errs []string
				for _, name := range args {
					res, err := c.VolumeInspect(ctx, name, moby.VolumeInspectOptions{})
					if err != nil {
						errs = append(errs, err.Error())
						continue
					}
					found = append(found, res.Volume)
				}
				out := cmd.OutOrStdout()
				if tmpl != nil {
					for _, v := range found {
						if err := tmpl.Execute(out, v); err != nil {
							return fmt.Errorf("template: %w", err)
						}
						fmt.Fprintln(out)
					}
				} else {
					b, err := json.MarshalIndent(found, "", "    ")
					if err != nil {
						return err
					}
					fmt.Fprintf(out, "%s\n", b)
				}
				return volumeFailures(errs)
			})
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "Format output using a Go template (e.g. '{{.Mountpoint}}')")
	return cmd
}

func newVolumeRmCmd() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:     "rm [OPTIONS] VOLUME [VOLUME...]",
		Aliases: []string{"remove"},
		Short:   "Remove one or more volumes",
		Long:    "Remove one or more volumes. A volume used by any container (running or stopped) is refused,\nnaming the containers. --force only ignores volumes that do not exist.",
		Args:    imageArgs(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return viaAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				var errs []string
				for _, name := range args {
					if _, err := c.VolumeRemove(ctx, name, moby.VolumeRemoveOptions{Force: force}); err != nil {
						errs = append(errs, err.Error())
						continue
					}
					fmt.Fprintln(cmd.OutOrStdout(), name)
				}
				return volumeFailures(errs)
			})
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Do not fail on volumes that do not exist")
	return cmd
}

func newVolumePruneCmd() *cobra.Command {
	var force, all bool
	var filters []string
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused local volumes",
		Long: `Remove volumes no container uses. As with Docker 23 and later, only anonymous
volumes are removed unless --all is given. Volumes the reconciler manages with
reclaimPolicy Retain (label io.reconciler.managed=true without
io.reconciler.reclaim-policy=Delete) are always kept: remove them by name with
'reconciler volume rm'.`,
		Args: imageArgs(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := parseFilterFlags(filters)
			if err == nil {
				err = checkFilterKeys(f, "label")
			}
			if err != nil {
				return usageError(cmd, err.Error()+" (prune supports only label filters)")
			}
			if !force {
				what := "anonymous local volumes"
				if all {
					what = "all local volumes"
				}
				ok, err := confirmPrompt(cmd.InOrStdin(), cmd.OutOrStdout(), "WARNING! This will remove "+what+" not used by at least one container.")
				if err != nil {
					return err
				}
				if !ok {
					return errors.New("volume prune has been cancelled")
				}
			}
			return viaAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				// all=false said out loud: at API 1.41, which our engine
				// serves, no "all" filter means all (as with dockerd).
				res, err := c.VolumePrune(ctx, moby.VolumePruneOptions{Filters: f.Clone().Add("all", strconv.FormatBool(all))})
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if rep := res.Report; len(rep.VolumesDeleted) > 0 {
					fmt.Fprintln(out, "Deleted Volumes:")
					for _, n := range rep.VolumesDeleted {
						fmt.Fprintln(out, n)
					}
					fmt.Fprintln(out)
				}
				fmt.Fprintf(out, "Total reclaimed space: %s\n", units.HumanSize(float64(res.Report.SpaceReclaimed)))
				kept, err := retainedVolumes(ctx, c, f, all)
				if err != nil {
					return err
				}
				if len(kept) > 0 {
					fmt.Fprintf(cmd.ErrOrStderr(), "Kept %d unused volume(s) with reclaim policy Retain: %s (remove them by name with 'reconciler volume rm')\n",
						len(kept), strings.Join(kept, ", "))
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	f.BoolVarP(&all, "all", "a", false, "Remove all unused volumes, not just anonymous ones")
	f.StringArrayVar(&filters, "filter", nil, "Provide filter values (label=KEY[=VALUE])")
	return cmd
}

// retainedVolumes are the unused volumes a prune with these filters kept
// only for their Retain reclaim policy (the engine's prune report does
// not carry them), sorted by name.
func retainedVolumes(ctx context.Context, c *moby.Client, f moby.Filters, all bool) ([]string, error) {
	lf := f.Clone().Add("dangling", "true")
	res, err := c.VolumeList(ctx, moby.VolumeListOptions{Filters: lf})
	if err != nil {
		return nil, err
	}
	var kept []string
	for _, v := range res.Items {
		vol := &volumes.Volume{Name: v.Name, Labels: v.Labels}
		if (all || vol.Anonymous()) && vol.Retained() {
			kept = append(kept, v.Name)
		}
	}
	slices.Sort(kept)
	return kept, nil
}

// volumeRow is one line of docker volume ls --format: the fields of
// docker's volume formatter, Labels as "k=v,k2=v2", N/A for what only
// swarm cluster volumes (and usage data) have.
type volumeRow struct {
	Availability, Driver, Group, Labels, Links, Mountpoint, Name, Scope, Size, Status string
	labels                                                                            map[string]string
}

func newVolumeRow(v apivolume.Volume) volumeRow {
	var labels []string
	for _, k := range slices.Sorted(maps.Keys(v.Labels)) {
		labels = append(labels, k+"="+v.Labels[k])
	}
	r := volumeRow{Availability: "N/A", Driver: v.Driver, Group: "N/A", Labels: strings.Join(labels, ","), Links: "N/A",
		Mountpoint: v.Mountpoint, Name: v.Name, Scope: v.Scope, Size: "N/A", Status: "N/A", labels: v.Labels}
	if u := v.UsageData; u != nil {
		r.Links, r.Size = strconv.FormatInt(u.RefCount, 10), units.HumanSize(float64(u.Size))
	}
	return r
}

// Label is the value of one label, as in docker's '{{.Label "key"}}'.
func (r volumeRow) Label(key string) string { return r.labels[key] }

// parseLabelFlags reads KEY=VALUE (or KEY, for an empty value) flags.
func parseLabelFlags(flags []string) (map[string]string, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	l := make(map[string]string, len(flags))
	for _, s := range flags {
		k, v, _ := strings.Cut(s, "=")
		if k == "" {
			return nil, fmt.Errorf("invalid label %q: want KEY=VALUE", s)
		}
		l[k] = v
	}
	return l, nil
}

// confirmPrompt asks a yes/no question, as docker's prune commands do.
func confirmPrompt(in io.Reader, out io.Writer, warning string) (bool, error) {
	fmt.Fprintf(out, "%s\nAre you sure you want to continue? [y/N] ", warning)
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes", nil
}

func volumeJSON(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// volumeFailures ends a command that handled several arguments with exit code 1
// after printing one line per failed argument.
func volumeFailures(lines []string) error {
	if len(lines) == 0 {
		return nil
	}
	return &exitError{code: 1, msg: strings.Join(lines, "\n")}
}
