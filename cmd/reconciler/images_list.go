package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"

	units "github.com/docker/go-units"
	"github.com/moby/moby/api/types/image"
	moby "github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

// imageFilterKeys are the filters images accepts (the engine applies them).
var imageFilterKeys = []string{"before", "dangling", "label", "label!", "reference", "since"}

func newImagesCmd() *cobra.Command {
	var all, quiet, noTrunc bool
	var filters []string
	var format string
	cmd := &cobra.Command{
		Use:   "images [OPTIONS] [REPOSITORY[:TAG]]",
		Short: "List images",
		Args:  imageArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := parseFilterFlags(filters)
			if err == nil {
				err = checkFilterKeys(f, imageFilterKeys...)
			}
			if err == nil {
				err = checkDangling(f)
			}
			if err != nil {
				return imageUsageError(cmd, err.Error())
			}
			if len(args) == 1 {
				f.Add("reference", args[0]) // as docker does with REPOSITORY[:TAG]
			}
			var tmpl *template.Template
			if format != "" && format != "json" {
				if tmpl, err = template.New("format").Funcs(imageTemplateFuncs).Parse(format); err != nil {
					return imageUsageError(cmd, "invalid --format: "+err.Error())
				}
			}
			return viaAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				res, err := c.ImageList(ctx, moby.ImageListOptions{All: all, Filters: f})
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 10, 1, 3, ' ', 0) // docker's table
				if !quiet && format == "" {
					fmt.Fprintln(w, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE")
				}
				seen := map[string]bool{}
				for _, img := range res.Items {
					row := newImageRow(img, noTrunc)
					tags := slices.Clone(img.RepoTags)
					slices.Sort(tags)
					if len(tags) == 0 {
						tags = []string{"<none>:<none>"}
					}
					for _, t := range tags {
						row.Repository, row.Tag = imageSplitTag(t)
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
			})
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&all, "all", "a", false, "Show all images (default hides intermediate images)")
	f.BoolVarP(&quiet, "quiet", "q", false, "Only show image IDs")
	f.BoolVar(&noTrunc, "no-trunc", false, "Don't truncate output")
	f.StringArrayVarP(&filters, "filter", "f", nil, "Filter output (dangling=true|false, label=KEY[=VALUE], reference=PATTERN, before=IMAGE, since=IMAGE)")
	f.StringVar(&format, "format", "", "Format output: 'json' or a Go template ({{.Repository}}, {{.Tag}}, {{.ID}}, {{.CreatedSince}}, {{.CreatedAt}}, {{.Size}})")
	return cmd
}

// checkDangling refuses a dangling filter that is not true or false.
func checkDangling(f moby.Filters) error {
	for v := range f["dangling"] {
		if v != "true" && v != "false" {
			return fmt.Errorf("invalid filter 'dangling=%s': use true or false", v)
		}
	}
	return nil
}

// imageRow is one line of docker images --format.
type imageRow struct {
	Containers, CreatedAt, CreatedSince, Digest, ID, Repository, SharedSize, Size, Tag, UniqueSize, VirtualSize string
}

func newImageRow(img image.Summary, noTrunc bool) imageRow {
	r := imageRow{Containers: "N/A", Digest: "<none>", ID: imageShortID(img.ID),
		Size: imageHumanSize(img.Size), VirtualSize: units.HumanSize(float64(img.Size)), SharedSize: "N/A", UniqueSize: "N/A"}
	if noTrunc {
		r.ID = img.ID
	}
	if img.Containers >= 0 {
		r.Containers = fmt.Sprint(img.Containers)
	}
	if img.SharedSize >= 0 {
		r.SharedSize = imageHumanSize(img.SharedSize)
		r.UniqueSize = imageHumanSize(img.Size - img.SharedSize)
	}
	var created time.Time
	if img.Created > 0 {
		created = time.Unix(img.Created, 0)
		r.CreatedAt = created.Local().Format("2006-01-02 15:04:05 -0700 MST")
	}
	r.CreatedSince = imageAgo(created)
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
