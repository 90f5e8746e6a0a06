package main

import (
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"strings"
	"text/tabwriter"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/reconciler/reconciler/layerstore"
)

func newImagesCmd() *cobra.Command {
	var all, quiet, noTrunc bool
	var filters []string
	var format string
	cmd := &cobra.Command{
		Use:   "images [OPTIONS] [REPOSITORY[:TAG]]",
		Short: "List images",
		Args:  imageArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			match, err := imageFilter(filters)
			if err != nil {
				return imageUsageError(cmd, err.Error())
			}
			var tmpl *template.Template
			if format != "" && format != "json" {
				if tmpl, err = template.New("format").Funcs(imageTemplateFuncs).Parse(format); err != nil {
					return imageUsageError(cmd, "invalid --format: "+err.Error())
				}
			}
			s, err := openImages()
			if err != nil {
				return err
			}
			imgs, err := s.List()
			if err != nil {
				return err
			}
			parents := map[string]bool{}
			for _, img := range imgs {
				parents[img.Parent.String()] = true
			}
			slices.Reverse(imgs) // newest first, as docker
			out := cmd.OutOrStdout()
			w := tabwriter.NewWriter(out, 0, 0, 3, ' ', 0)
			table := !quiet && format == ""
			if table {
				fmt.Fprintln(w, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE")
			}
			seen := map[string]bool{}
			for _, img := range imgs {
				intermediate := len(img.RepoTags) == 0 && parents[img.ID.String()]
				if intermediate && !all {
					continue
				}
				row := newImageRow(img, noTrunc)
				tags := img.RepoTags
				if len(tags) == 0 {
					tags = []string{"<none>:<none>"}
				}
				for _, t := range tags {
					row.Repository, row.Tag = imageSplitTag(t)
					if len(args) == 1 && !imageMatchesRepo(args[0], row.Repository, row.Tag) || !match(img, intermediate, t) {
						continue
					}
					switch {
					case quiet:
						if !seen[row.ID] {
							fmt.Fprintln(w, row.ID)
							seen[row.ID] = true
						}
					case format == "json":
						b, _ := json.Marshal(row)
						fmt.Fprintln(w, string(b))
					case tmpl != nil:
						if err := tmpl.Execute(w, row); err != nil {
							return err
						}
						fmt.Fprintln(w)
					default:
						fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", row.Repository, row.Tag, row.ID, row.CreatedSince, row.Size)
					}
				}
			}
			return w.Flush()
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&all, "all", "a", false, "Show all images (default hides intermediate images)")
	f.BoolVarP(&quiet, "quiet", "q", false, "Only show image IDs")
	f.BoolVar(&noTrunc, "no-trunc", false, "Don't truncate output")
	f.StringArrayVarP(&filters, "filter", "f", nil, "Filter output (dangling=true|false, label=KEY[=VALUE], reference=PATTERN)")
	f.StringVar(&format, "format", "", "Format output: 'json' or a Go template ({{.Repository}}, {{.Tag}}, {{.ID}}, {{.CreatedSince}}, {{.CreatedAt}}, {{.Size}})")
	return cmd
}

// imageRow is one line of docker images --format.
type imageRow struct {
	Containers, CreatedAt, CreatedSince, Digest, ID, Repository, SharedSize, Size, Tag, UniqueSize, VirtualSize string
}

func newImageRow(img *layerstore.Image, noTrunc bool) imageRow {
	r := imageRow{Containers: "N/A", Digest: "<none>", ID: imageShortID(img.ID.String()), CreatedSince: imageAgo(img.Created),
		Size: imageHumanSize(img.Size), VirtualSize: imageHumanSize(img.Size), SharedSize: "N/A", UniqueSize: "N/A"}
	if noTrunc {
		r.ID = img.ID.String()
	}
	if !img.Created.IsZero() {
		r.CreatedAt = img.Created.Local().Format("2006-01-02 15:04:05 -0700 MST")
	}
	return r
}

var imageTemplateFuncs = template.FuncMap{
	"json": func(v any) (string, error) {
		b, err := json.Marshal(v)
		return string(b), err
	},
	"join":  strings.Join,
	"lower": strings.ToLower,
	"upper": strings.ToUpper,
}

// imageFilter reads docker images --filter flags into a predicate on one
// line (an image and one of its tags, "<none>:<none>" if untagged).
func imageFilter(flags []string) (func(img *layerstore.Image, intermediate bool, tag string) bool, error) {
	type kv struct{ k, v string }
	var fs []kv
	for _, f := range flags {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return nil, fmt.Errorf("bad format of filter %q (expected name=value)", f)
		}
		switch k {
		case "dangling":
			if v != "true" && v != "false" {
				return nil, fmt.Errorf("invalid filter 'dangling=%s': use true or false", v)
			}
		case "label", "reference":
		default:
			return nil, fmt.Errorf("invalid filter %q: supported are dangling, label, reference", k)
		}
		fs = append(fs, kv{k, v})
	}
	return func(img *layerstore.Image, intermediate bool, tag string) bool {
		for _, f := range fs {
			switch f.k {
			case "dangling":
				if (len(img.RepoTags) == 0 && !intermediate) != (f.v == "true") {
					return false
				}
			case "label":
				k, v, hasV := strings.Cut(f.v, "=")
				got, ok := img.Config.Config.Labels[k]
				if !ok || hasV && got != v {
					return false
				}
			case "reference":
				repo, _ := imageSplitTag(tag)
				m1, _ := path.Match(f.v, tag)
				m2, _ := path.Match(f.v, repo)
				if len(img.RepoTags) == 0 || !m1 && !m2 {
					return false
				}
			}
		}
		return true
	}, nil
}

// imageMatchesRepo is docker images' REPOSITORY[:TAG] argument.
func imageMatchesRepo(arg, repo, tag string) bool {
	r, t := imageSplitTag(arg)
	if n, err := layerstore.NormalizeTag(r); err == nil {
		r, _ = imageSplitTag(n)
	}
	return r == repo && (t == "" || t == tag)
}
