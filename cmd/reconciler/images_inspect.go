package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"text/tabwriter"
	"text/template"
	"time"

	"github.com/spf13/cobra"

	"github.com/reconciler/reconciler/layerstore"
)

// imageInspectJSON is docker image inspect's JSON for an image.
type imageInspectJSON struct {
	ID           string   `json:"Id"`
	RepoTags     []string `json:"RepoTags"`
	RepoDigests  []string `json:"RepoDigests"`
	Parent       string   `json:"Parent"`
	Comment      string   `json:"Comment"`
	Created      string   `json:"Created"`
	Author       string   `json:"Author"`
	Config       any      `json:"Config"`
	Architecture string   `json:"Architecture"`
	Os           string   `json:"Os"`
	Size         int64    `json:"Size"`
	RootFS       struct {
		Type   string   `json:"Type"`
		Layers []string `json:"Layers"`
	} `json:"RootFS"`
}

func imageToInspect(img *layerstore.Image) imageInspectJSON {
	x := imageInspectJSON{
		ID: img.ID.String(), RepoTags: img.RepoTags, RepoDigests: []string{}, Parent: img.Parent.String(),
		Author: img.Config.Author, Config: img.Config.Config, Architecture: img.Config.Architecture, Os: img.Config.OS, Size: img.Size,
	}
	if x.RepoTags == nil {
		x.RepoTags = []string{}
	}
	if !img.Created.IsZero() {
		x.Created = img.Created.UTC().Format(time.RFC3339Nano)
	}
	if h := img.Config.History; len(h) > 0 {
		x.Comment = h[len(h)-1].Comment
	}
	x.RootFS.Type = "layers"
	x.RootFS.Layers = []string{}
	for _, l := range img.Layers {
		x.RootFS.Layers = append(x.RootFS.Layers, l.DiffID.String())
	}
	return x
}

func newImageInspectCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "inspect [OPTIONS] IMAGE [IMAGE...]",
		Short: "Display detailed information on one or more images",
		Args:  imageArgs(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var tmpl *template.Template
			if format != "" && format != "json" {
				var err error
				if tmpl, err = template.New("format").Funcs(imageTemplateFuncs).Parse(format); err != nil {
					return imageUsageError(cmd, "invalid --format: "+err.Error())
				}
			}
			s, err := openImages()
			if err != nil {
				return err
			}
			out := []imageInspectJSON{}
			var failed []string
			for _, ref := range args {
				img, err := s.Resolve(ref)
				if err != nil {
					failed = append(failed, "Error: No such image: "+ref)
					continue
				}
				out = append(out, imageToInspect(img))
			}
			if tmpl != nil {
				for _, x := range out {
					// Like docker, the template sees the JSON (so {{.Id}} works).
					var m map[string]any
					b, _ := json.Marshal(x)
					if err := json.Unmarshal(b, &m); err != nil {
						return err
					}
					if err := tmpl.Execute(cmd.OutOrStdout(), m); err != nil {
						return err
					}
					fmt.Fprintln(cmd.OutOrStdout())
				}
				return imageFailures(failed)
			}
			b, err := json.MarshalIndent(out, "", "    ")
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(b))
			return imageFailures(failed)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "Format output using a Go template ({{.Id}}, {{.Config.Cmd}}, {{json .RootFS}})")
	return cmd
}

func newImageHistoryCmd() *cobra.Command {
	var noTrunc, quiet bool
	cmd := &cobra.Command{
		Use:   "history [OPTIONS] IMAGE",
		Short: "Show the history of an image",
		Args:  imageArgs(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openImages()
			if err != nil {
				return err
			}
			img, err := s.Resolve(args[0])
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 3, ' ', 0)
			if !quiet {
				fmt.Fprintln(w, "IMAGE\tCREATED\tCREATED BY\tSIZE\tCOMMENT")
			}
			for _, r := range imageHistoryRows(img) {
				id := "<missing>"
				if r.top {
					id = imageShortID(img.ID.String())
					if noTrunc {
						id = img.ID.String()
					}
				}
				if quiet {
					fmt.Fprintln(w, id)
					continue
				}
				by := r.createdBy
				if !noTrunc && len(by) > 45 {
					by = by[:44] + "…"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", id, imageAgo(r.created), by, imageHumanSize(r.size), r.comment)
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&noTrunc, "no-trunc", false, "Don't truncate output")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "Only show image IDs")
	return cmd
}

type imageHistoryRow struct {
	top                bool
	created            time.Time
	createdBy, comment string
	size               int64
}

// imageHistoryRows are the config's history entries, newest first, each
// non-empty one sized by its layer (an image without history gets one
// row per layer).
func imageHistoryRows(img *layerstore.Image) []imageHistoryRow {
	var rows []imageHistoryRow
	li := 0
	if len(img.Config.History) == 0 {
		for _, l := range img.Layers {
			rows = append(rows, imageHistoryRow{created: img.Created, size: l.TarSize})
		}
	}
	for _, h := range img.Config.History {
		r := imageHistoryRow{createdBy: h.CreatedBy, comment: h.Comment}
		if h.Created != nil {
			r.created = *h.Created
		}
		if !h.EmptyLayer && li < len(img.Layers) {
			r.size = img.Layers[li].TarSize
			li++
		}
		rows = append(rows, r)
	}
	slices.Reverse(rows)
	if len(rows) > 0 {
		rows[0].top = true
	}
	return rows
}
