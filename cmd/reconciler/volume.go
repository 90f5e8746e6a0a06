package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"

	units "github.com/docker/go-units"
	apivolume "github.com/moby/moby/api/types/volume"
	"github.com/spf13/cobra"

	"github.com/reconciler/reconciler/volumes"
)

func init() {
	commands = append(commands, newVolumeCmd)
}

// newVolumeCmd is `reconciler volume`, in docker volume's spelling and
// output formats, working on the state root's volumes/ folder in process.
func newVolumeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "volume",
		Short: "Manage volumes",
	}
	cmd.AddCommand(newVolumeCreateCmd(), newVolumeLsCmd(), newVolumeInspectCmd(), newVolumeRmCmd(), newVolumePruneCmd())
	return cmd
}

// openVolumes opens the volumes of the state root given by --root.
func openVolumes() (*volumes.Manager, error) {
	return volumes.Open(filepath.Join(global.root, "volumes"))
}

func newVolumeCreateCmd() *cobra.Command {
	var name, driver string
	var labels []string
	cmd := &cobra.Command{
		Use:   "create [OPTIONS] [VOLUME]",
		Short: "Create a volume",
		Long:  "Create a volume. Creating an existing volume with the same driver and labels returns it unchanged;\nwith other labels it is an error. Without a name, an anonymous volume with a random name is created.",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if name != "" && name != args[0] {
					return volumeUsageError(cmd, "conflicting options: either specify --name or provide positional arg, not both")
				}
				name = args[0]
			}
			l, err := parseLabelFlags(labels)
			if err != nil {
				return volumeUsageError(cmd, err.Error())
			}
			m, err := openVolumes()
			if err != nil {
				return err
			}
			defer m.Close()
			v, err := m.Create(volumes.CreateOptions{Name: name, Driver: driver, Labels: l})
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), v.Name)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&name, "name", "", "Specify volume name")
	f.StringVarP(&driver, "driver", "d", volumes.DriverLocal, "Specify volume driver name (only \"local\")")
	f.StringArrayVar(&labels, "label", nil, "Set metadata for a volume (KEY=VALUE, repeatable)")
	return cmd
}

func newVolumeLsCmd() *cobra.Command {
	var quiet bool
	var filters []string
	var format string
	cmd := &cobra.Command{
		Use:     "ls [OPTIONS]",
		Aliases: []string{"list"},
		Short:   "List volumes",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := volumes.ParseFilter(filters)
			if err != nil {
				return volumeUsageError(cmd, err.Error())
			}
			var tmpl *template.Template
			if format != "" && format != "json" {
				if tmpl, err = template.New("").Funcs(template.FuncMap{"json": volumeJSON}).Parse(format); err != nil {
					return volumeUsageError(cmd, "template parsing error: "+err.Error())
				}
			}
			m, err := openVolumes()
			if err != nil {
				return err
			}
			defer m.Close()
			vols, err := m.List(f)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
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
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "Only display volume names")
	cmd.Flags().StringVar(&format, "format", "", "Format output: 'json', or a Go template over .Name .Driver .Scope .Mountpoint .Labels (e.g. '{{.Name}}', '{{.Label \"app\"}}')")
	cmd.Flags().StringArrayVarP(&filters, "filter", "f", nil, "Provide filter values (label=KEY[=VALUE], dangling=true|false, name=PART, driver=local)")
	return cmd
}

func newVolumeInspectCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] VOLUME [VOLUME...]",
		Short: "Display detailed information on one or more volumes",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var tmpl *template.Template
			if format != "" {
				var err error
				tmpl, err = template.New("").Funcs(template.FuncMap{"json": volumeJSON}).Parse(format)
				if err != nil {
					return volumeUsageError(cmd, "template parsing error: "+err.Error())
				}
			}
			m, err := openVolumes()
			if err != nil {
				return err
			}
			defer m.Close()
			found := []apivolume.Volume{}
			var errs []string
			for _, name := range args {
				v, err := m.Get(name)
				if errors.Is(err, volumes.ErrNotFound) || errors.Is(err, volumes.ErrInvalid) {
					errs = append(errs, "Error: "+err.Error())
					continue
				} else if err != nil {
					return err
				}
				found = append(found, apiVolume(v))
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
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := openVolumes()
			if err != nil {
				return err
			}
			defer m.Close()
			var errs []string
			for _, name := range args {
				if err := m.Remove(name, force); err != nil {
					errs = append(errs, "Error: "+err.Error())
					continue
				}
				fmt.Fprintln(cmd.OutOrStdout(), name)
			}
			return volumeFailures(errs)
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
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := volumes.ParseFilter(filters)
			if err != nil {
				return volumeUsageError(cmd, err.Error())
			}
			if f.Dangling != nil || f.Name != "" || f.Driver != "" {
				return volumeUsageError(cmd, "prune supports only label filters")
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
			m, err := openVolumes()
			if err != nil {
				return err
			}
			defer m.Close()
			rep, err := m.Prune(volumes.PruneOptions{All: all, Filter: f})
			out := cmd.OutOrStdout()
			if len(rep.Deleted) > 0 {
				fmt.Fprintln(out, "Deleted Volumes:")
				for _, n := range rep.Deleted {
					fmt.Fprintln(out, n)
				}
				fmt.Fprintln(out)
			}
			fmt.Fprintf(out, "Total reclaimed space: %s\n", units.HumanSize(float64(rep.SpaceReclaimed)))
			if len(rep.Retained) > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "Kept %d unused volume(s) with reclaim policy Retain: %s (remove them by name with 'reconciler volume rm')\n",
					len(rep.Retained), strings.Join(rep.Retained, ", "))
			}
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	f.BoolVarP(&all, "all", "a", false, "Remove all unused volumes, not just anonymous ones")
	f.StringArrayVar(&filters, "filter", nil, "Provide filter values (label=KEY[=VALUE])")
	return cmd
}

// volumeRow is one line of docker volume ls --format: the fields of
// docker's volume formatter, Labels as "k=v,k2=v2".
type volumeRow struct {
	Driver, Labels, Mountpoint, Name, Scope string
	labels                                  map[string]string
}

func newVolumeRow(v *volumes.Volume) volumeRow {
	var labels []string
	for _, k := range slices.Sorted(maps.Keys(v.Labels)) {
		labels = append(labels, k+"="+v.Labels[k])
	}
	return volumeRow{Driver: v.Driver, Labels: strings.Join(labels, ","), Mountpoint: v.Mountpoint, Name: v.Name, Scope: v.Scope, labels: v.Labels}
}

// Label is the value of one label, as in docker's '{{.Label "key"}}'.
func (r volumeRow) Label(key string) string { return r.labels[key] }

// apiVolume is v as the Docker Engine API and docker volume inspect show it.
func apiVolume(v *volumes.Volume) apivolume.Volume {
	return apivolume.Volume{
		CreatedAt:  v.CreatedAt.Local().Format(time.RFC3339),
		Driver:     v.Driver,
		Labels:     v.Labels,
		Mountpoint: v.Mountpoint,
		Name:       v.Name,
		Options:    v.Options,
		Scope:      v.Scope,
	}
}

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

// volumeUsageError ends a command with exit code 2, docker-style.
func volumeUsageError(cmd *cobra.Command, msg string) error {
	return &exitError{code: 2, msg: "Error: " + msg + "\nSee '" + cmd.CommandPath() + " --help'."}
}
