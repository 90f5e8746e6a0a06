package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/reconcile"
	"github.com/reconciler/reconciler/spec"
)

func init() {
	commands = append(commands, newGetCmd)
}

// kindNames maps what users type to kinds, as kubectl accepts plurals.
var kindNames = map[string]string{
	"container": spec.KindContainer, "containers": spec.KindContainer, "c": spec.KindContainer,
	"image": spec.KindImage, "images": spec.KindImage, "img": spec.KindImage,
	"volume": spec.KindVolume, "volumes": spec.KindVolume, "vol": spec.KindVolume,
	"host": spec.KindHost, "hosts": spec.KindHost,
}

// statusRow is one object as get -o yaml|json prints it.
type statusRow struct {
	Name     string    `json:"name"`
	Kind     string    `json:"kind"`
	Host     string    `json:"host"`
	Status   string    `json:"status"`
	Restarts int       `json:"restarts"`
	Created  time.Time `json:"created,omitzero"`
	Message  string    `json:"message,omitempty"`
	// LastError is the controller's last error for the object, kept
	// while it retries.
	LastError string `json:"lastError,omitempty"`
	SpecHash  string `json:"specHash,omitempty"`
	Source    string `json:"source,omitempty"`
	ID        string `json:"id,omitempty"`
}

func newGetCmd() *cobra.Command {
	var output string
	var watch bool
	var hosts []string
	cmd := &cobra.Command{
		Use:   "get [KIND[/NAME]] [-o wide|yaml|json] [-w]",
		Short: "List managed objects and their status",
		Long: `Get lists the objects reconciler manages: NAME, KIND, HOST, STATUS,
RESTARTS, AGE, MESSAGE. When a daemon started with --watch serves -H or
--root, the status is its controller's (Ready, Progressing, Failed with the
last error, Unknown for a host it cannot reach) for every host it drives
(--on narrows them); else it is read from the hosts' io.reconciler.* labels.
KIND is container, image, volume or host (plurals too); KIND/NAME picks one
object. -o wide adds the spec hash, source file and ID; -o yaml and -o json
print every field; -o wide also says on stderr which view is shown. -w keeps
watching and prints objects again as they change.`,
		Example: `  reconciler get
  reconciler get containers -o wide
  reconciler get container/web -w`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch output {
			case "", "wide", "yaml", "json":
			default:
				return usageError(cmd, fmt.Sprintf("unknown output format %q: use wide, yaml or json", output))
			}
			kind, name := "", ""
			if len(args) == 1 && args[0] != "all" {
				k, n, _ := strings.Cut(args[0], "/")
				var ok bool
				if kind, ok = kindNames[strings.ToLower(k)]; !ok {
					return usageError(cmd, fmt.Sprintf("unknown kind %q: use container, image, volume or host", k))
				}
				name = n
			}
			filter := func(st []reconcile.ObjectStatus, hosts []string) []reconcile.ObjectStatus {
				var out []reconcile.ObjectStatus
				for _, s := range st {
					if (kind == "" || s.Key.Kind == kind) && (name == "" || s.Key.Name == name) &&
						(hosts == nil || slices.Contains(hosts, s.Key.Host)) {
						out = append(out, s)
					}
				}
				return out
			}
			var eng engines
			defer eng.close()
			ctx, cancel := signalContext(cmd, 0)
			defer cancel()

			// The controller's view when a daemon with --watch serves us,
			// else what the engines' labels say.
			var list func() ([]reconcile.ObjectStatus, error)
			var changed <-chan struct{}
			view := "engine labels (no controller answers)"
			ctl, err := dialController(ctx)
			if err != nil {
				return &exitError{code: 1, msg: "Error: " + err.Error()}
			}
			if ctl != nil {
				defer ctl.close()
				var onHosts []string // every host the controller drives, unless --on says
				if cmd.Flags().Changed("on") {
					onHosts = hosts
				}
				list = func() ([]reconcile.ObjectStatus, error) {
					st, err := ctl.status(ctx)
					return filter(st, onHosts), err
				}
				view = "the controller of the daemon at " + ctl.host
			} else {
				list = func() ([]reconcile.ObjectStatus, error) {
					var all []reconcile.ObjectStatus
					for _, h := range hosts {
						e, err := eng.get(h, nil)
						if err != nil {
							return nil, err
						}
						st, err := reconcile.Observe(ctx, e, h)
						if err != nil {
							return nil, err
						}
						all = append(all, filter(st, nil)...)
					}
					return all, nil
				}
			}
			st, err := list()
			if err != nil {
				return &exitError{code: 1, msg: "Error: " + err.Error()}
			}
			out := cmd.OutOrStdout()
			if len(st) == 0 && name != "" && !watch {
				return &exitError{code: 1, msg: fmt.Sprintf("Error: %s %q not found", strings.ToLower(kind), name)}
			}
			if len(st) == 0 && !watch && output == "" {
				fmt.Fprintln(cmd.ErrOrStderr(), "No managed objects found.")
				return nil
			}
			if output == "wide" {
				fmt.Fprintln(cmd.ErrOrStderr(), "Status from "+view+".")
			}
			if err := printStatuses(out, st, output, true); err != nil {
				return err
			}
			if !watch {
				return nil
			}
			if ctl != nil {
				changed = ticks(ctx, controllerPoll)
			} else if changed, err = labelEvents(ctx, &eng, hosts); err != nil {
				return &exitError{code: 1, msg: "Error: " + err.Error()}
			}
			return watchStatuses(ctx, changed, out, output, st, list)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&output, "output", "o", "", "wide, yaml or json")
	f.BoolVarP(&watch, "watch", "w", false, "after listing, print objects again whenever they change")
	f.StringSliceVar(&hosts, "on", []string{spec.LocalHost}, "hosts to list; repeatable (from a controller: every host it drives unless given)")
	return cmd
}

// controllerPoll is how often get -w asks the controller again.
const controllerPoll = time.Second

// labelEvents signals when a managed object changes on one of the hosts,
// from their engine events.
func labelEvents(ctx context.Context, eng *engines, hosts []string) (<-chan struct{}, error) {
	changed := make(chan struct{}, 1)
	for _, h := range hosts {
		e, err := eng.get(h, nil)
		if err != nil {
			return nil, err
		}
		events, _ := e.Events(ctx)
		go func() {
			for ev := range events {
				if ev.Labels[engine.LabelManaged] == "true" {
					select {
					case changed <- struct{}{}:
					default:
					}
				}
			}
		}()
	}
	return changed, nil
}

// ticks signals every d until ctx ends.
func ticks(ctx context.Context, d time.Duration) <-chan struct{} {
	changed := make(chan struct{})
	go func() {
		t := time.NewTicker(d)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				select {
				case changed <- struct{}{}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	return changed
}

// watchStatuses lists again whenever changed signals and prints the
// objects whose status changed (or that disappeared), until ctx ends.
func watchStatuses(ctx context.Context, changed <-chan struct{}, out io.Writer, output string, prev []reconcile.ObjectStatus, list func() ([]reconcile.ObjectStatus, error)) error {
	last := map[spec.Key]statusRow{}
	for _, s := range prev {
		last[s.Key] = row(s)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-changed:
		}
		time.Sleep(50 * time.Millisecond) // let a burst of events settle
		st, err := list()
		if err != nil {
			return &exitError{code: 1, msg: "Error: " + err.Error()}
		}
		var diff []reconcile.ObjectStatus
		seen := map[spec.Key]bool{}
		for _, s := range st {
			seen[s.Key] = true
			r := row(s)
			if old, ok := last[s.Key]; !ok || old != r {
				diff = append(diff, s)
				last[s.Key] = r
			}
		}
		for k, r := range last {
			if !seen[k] {
				diff = append(diff, reconcile.ObjectStatus{Key: k, Phase: "Deleted", Created: r.Created})
				delete(last, k)
			}
		}
		reconcile.SortStatuses(diff)
		if err := printStatuses(out, diff, output, false); err != nil {
			return err
		}
	}
}

func row(s reconcile.ObjectStatus) statusRow {
	return statusRow{
		Name: s.Key.Name, Kind: s.Key.Kind, Host: s.Key.Host, Status: string(s.Phase),
		Restarts: s.Restarts, Created: s.Created, Message: s.Message,
		SpecHash: s.ObservedHash, Source: s.Source, ID: s.ID, LastError: s.LastError,
	}
}

// printStatuses writes a kubectl-like table (header only if header), or
// YAML/JSON.
func printStatuses(w io.Writer, st []reconcile.ObjectStatus, output string, header bool) error {
	rows := make([]statusRow, len(st))
	for i, s := range st {
		rows[i] = row(s)
	}
	switch output {
	case "json":
		b, err := json.MarshalIndent(rows, "", "  ")
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\n", b)
		return nil
	case "yaml":
		b, err := yaml.Marshal(rows)
		if err != nil {
			return err
		}
		if !header {
			fmt.Fprintln(w, "---")
		}
		w.Write(b)
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 8, 3, ' ', 0)
	if header {
		fmt.Fprint(tw, "NAME\tKIND\tHOST\tSTATUS\tRESTARTS\tAGE\tMESSAGE")
		if output == "wide" {
			fmt.Fprint(tw, "\tSPEC-HASH\tSOURCE\tID")
		}
		fmt.Fprintln(tw)
	}
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s", r.Name, strings.ToLower(r.Kind), r.Host, r.Status, r.Restarts, age(r.Created), r.Message)
		if output == "wide" {
			fmt.Fprintf(tw, "\t%s\t%s\t%s", shortID(r.SpecHash), r.Source, shortID(strings.TrimPrefix(r.ID, "sha256:")))
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// age is kubectl's short duration: 45s, 12m, 5h, 3d.
func age(t time.Time) string {
	if t.IsZero() {
		return "<unknown>"
	}
	d := time.Since(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func shortID(s string) string {
	if len(s) > 12 {
		return s[:12]
	}
	return s
}

// controller is the status endpoint of a daemon running --watch.
type controller struct {
	hc    *http.Client
	host  string
	close func()
}

// dialController finds the controller of the daemon serving -H or
// --root; it returns nil when there is no daemon or it runs no
// controller (its API answers 404 for statusPath).
func dialController(ctx context.Context) (*controller, error) {
	if global.host == "" && !daemonServes(global.root) {
		return nil, nil
	}
	c, closeClient, err := apiClient(ctx, false)
	if err != nil {
		return nil, nil // the label view reports what is wrong with the host
	}
	dial := c.Dialer()
	tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) }}
	ctl := &controller{hc: &http.Client{Transport: tr}, host: c.DaemonHost(), close: func() { tr.CloseIdleConnections(); closeClient() }}
	if _, err := ctl.status(ctx); err != nil {
		ctl.close()
		if errors.Is(err, errNoController) {
			return nil, nil
		}
		return nil, err
	}
	return ctl, nil
}

var errNoController = errors.New("no controller")

// status is the controller's list of objects (statusPath).
func (c *controller) status(ctx context.Context) ([]reconcile.ObjectStatus, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://reconciler"+statusPath, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w at %s: %v", errNoController, c.host, err)
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return nil, errNoController
	case resp.StatusCode != http.StatusOK:
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return nil, fmt.Errorf("controller status from %s: %s: %s", c.host, resp.Status, strings.TrimSpace(string(b)))
	}
	var st []reconcile.ObjectStatus
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, fmt.Errorf("controller status from %s: %w", c.host, err)
	}
	return st, nil
}
