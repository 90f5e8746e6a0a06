package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"
	"unicode/utf8"

	units "github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	moby "github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// psDefaultFormat is docker ps's table.
const psDefaultFormat = "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}"

func newPsCmd() *cobra.Command {
	var all, quiet, noTrunc, latest bool
	var last int
	var filters []string
	var format string
	cmd := &cobra.Command{
		Use:                   "ps [OPTIONS]",
		DisableFlagsInUseLine: true,
		Short:                 "List containers",
		Args:                  containerArgs(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := parseFilterFlags(filters)
			if err != nil {
				return containerUsageError(cmd, err.Error())
			}
			opts := moby.ContainerListOptions{All: all || latest || last > 0, Limit: last, Filters: f}
			if latest {
				opts.Limit = 1
			}
			if quiet && format == "" {
				format = "{{.ID}}"
			}
			if format == "" || format == "table" {
				format = psDefaultFormat
			}
			p, err := newPsPrinter(format)
			if err != nil {
				return containerUsageError(cmd, err.Error())
			}
			return withAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				list, err := c.ContainerList(ctx, opts)
				if err != nil {
					return daemonError(err)
				}
				sort.SliceStable(list.Items, func(i, j int) bool { return list.Items[i].Created > list.Items[j].Created })
				now := time.Now()
				rows := make([]psRow, len(list.Items))
				for i, s := range list.Items {
					rows[i] = psRow{c: s, trunc: !noTrunc, now: now}
				}
				return p.print(cmd.OutOrStdout(), rows)
			})
		},
	}
	fl := cmd.Flags()
	fl.BoolVarP(&all, "all", "a", false, "Show all containers (default shows just running)")
	fl.BoolVarP(&quiet, "quiet", "q", false, "Only display container IDs")
	fl.BoolVar(&noTrunc, "no-trunc", false, "Don't truncate output")
	fl.BoolVarP(&latest, "latest", "l", false, "Show the latest created container (includes all states)")
	fl.IntVarP(&last, "last", "n", -1, "Show n last created containers (includes all states)")
	fl.StringArrayVarP(&filters, "filter", "f", nil, "Filter output based on conditions provided (label=KEY[=VALUE], status=STATE, name=NAME, id=ID, ancestor=IMAGE, exited=CODE)")
	fl.StringVar(&format, "format", "", "Format output: 'table' (default), 'table TEMPLATE', 'json' or a Go template ({{.ID}}, {{.Image}}, {{.Command}}, {{.RunningFor}}, {{.Status}}, {{.State}}, {{.Names}}, {{.Labels}}, {{.Label \"k\"}}, {{.Mounts}}, {{.Networks}}, {{.Ports}}, {{.CreatedAt}})")
	return cmd
}

// psPrinter renders rows with docker's --format rules: "table ..." adds
// a header and aligns columns, "json" prints one object per line.
type psPrinter struct {
	tmpl  *template.Template
	table bool
	json  bool
}

func newPsPrinter(format string) (*psPrinter, error) {
	p := &psPrinter{}
	if format == "json" {
		p.json = true
		return p, nil
	}
	if rest, ok := strings.CutPrefix(format, "table"); ok && (rest == "" || rest[0] == ' ') {
		p.table, format = true, strings.TrimSpace(rest)
	}
	format = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(format)
	t, err := template.New("format").Funcs(imageTemplateFuncs).Parse(format)
	if err != nil {
		return nil, fmt.Errorf("invalid --format: %v", err)
	}
	p.tmpl = t
	return p, nil
}

func (p *psPrinter) print(out io.Writer, rows []psRow) error {
	if p.json {
		for _, r := range rows {
			b, err := json.Marshal(r.fields())
			if err != nil {
				return err
			}
			fmt.Fprintln(out, string(b))
		}
		return nil
	}
	w := out
	var tw *tabwriter.Writer
	if p.table {
		tw = tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)
		w = tw
		if err := p.line(w, psRow{header: true}); err != nil {
			return err
		}
	}
	for _, r := range rows {
		if err := p.line(w, r); err != nil {
			return err
		}
	}
	if tw != nil {
		return tw.Flush()
	}
	return nil
}

func (p *psPrinter) line(w io.Writer, r psRow) error {
	if err := p.tmpl.Execute(w, r); err != nil {
		return fmt.Errorf("--format: %v", err)
	}
	_, err := fmt.Fprintln(w)
	return err
}

// psRow is one container as docker ps's templates see it; a header row
// answers every field with its column title.
type psRow struct {
	c      container.Summary
	trunc  bool
	header bool
	now    time.Time
}

func (r psRow) pick(title string, value func() string) string {
	if r.header {
		return title
	}
	return value()
}

func (r psRow) ID() string {
	return r.pick("CONTAINER ID", func() string {
		if r.trunc {
			return imageShortID(r.c.ID)
		}
		return r.c.ID
	})
}

func (r psRow) Image() string {
	return r.pick("IMAGE", func() string {
		img := r.c.Image
		if r.trunc {
			if i := strings.Index(img, "@"); i > 0 {
				img = img[:i]
			}
			if strings.HasPrefix(img, "sha256:") {
				img = imageShortID(img)
			}
		}
		return img
	})
}

func (r psRow) Command() string {
	return r.pick("COMMAND", func() string {
		cmd := r.c.Command
		if r.trunc {
			cmd = ellipsis(cmd, 20)
		}
		return strconv.Quote(cmd)
	})
}

func (r psRow) CreatedAt() string {
	return r.pick("CREATED AT", func() string {
		return time.Unix(r.c.Created, 0).Format("2006-01-02 15:04:05 -0700 MST")
	})
}

func (r psRow) RunningFor() string {
	return r.pick("CREATED", func() string {
		return units.HumanDuration(r.now.Sub(time.Unix(r.c.Created, 0))) + " ago"
	})
}

func (r psRow) Status() string { return r.pick("STATUS", func() string { return r.c.Status }) }

func (r psRow) State() string { return r.pick("STATE", func() string { return string(r.c.State) }) }

func (r psRow) Names() string {
	return r.pick("NAMES", func() string {
		var names []string
		for _, n := range r.c.Names {
			n = strings.TrimPrefix(n, "/")
			if r.trunc && strings.Contains(n, "/") {
				continue // a link's name, as docker hides them
			}
			names = append(names, n)
		}
		return strings.Join(names, ",")
	})
}

func (r psRow) Labels() string {
	return r.pick("LABELS", func() string {
		kv := make([]string, 0, len(r.c.Labels))
		for k, v := range r.c.Labels {
			kv = append(kv, k+"="+v)
		}
		sort.Strings(kv)
		return strings.Join(kv, ",")
	})
}

// Label is one label's value ({{.Label "app"}}).
func (r psRow) Label(name string) string {
	return r.pick(strings.ToUpper(name), func() string { return r.c.Labels[name] })
}

func (r psRow) Mounts() string {
	return r.pick("MOUNTS", func() string {
		var ms []string
		for _, m := range r.c.Mounts {
			name := m.Name
			if name == "" {
				name = m.Source
			}
			if r.trunc {
				name = ellipsis(name, 15)
			}
			ms = append(ms, name)
		}
		return strings.Join(ms, ",")
	})
}

func (r psRow) Networks() string {
	return r.pick("NETWORKS", func() string {
		if r.c.NetworkSettings == nil {
			return r.c.HostConfig.NetworkMode
		}
		var ns []string
		for n := range r.c.NetworkSettings.Networks {
			ns = append(ns, n)
		}
		sort.Strings(ns)
		return strings.Join(ns, ",")
	})
}

func (r psRow) Ports() string {
	return r.pick("PORTS", func() string {
		var ps []string
		for _, p := range r.c.Ports {
			s := fmt.Sprintf("%d/%s", p.PrivatePort, p.Type)
			if p.PublicPort != 0 {
				s = fmt.Sprintf("%s:%d->%s", p.IP, p.PublicPort, s)
			}
			ps = append(ps, s)
		}
		return strings.Join(ps, ", ")
	})
}

// fields is the row as docker ps --format json prints it.
func (r psRow) fields() map[string]string {
	return map[string]string{
		"Command": r.Command(), "CreatedAt": r.CreatedAt(), "ID": r.ID(), "Image": r.Image(), "Labels": r.Labels(),
		"Mounts": r.Mounts(), "Names": r.Names(), "Networks": r.Networks(), "Ports": r.Ports(),
		"RunningFor": r.RunningFor(), "State": r.State(), "Status": r.Status(),
	}
}

// ellipsis shortens s to max characters, the last one "…", as docker.
func ellipsis(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max-1]) + "…"
}
