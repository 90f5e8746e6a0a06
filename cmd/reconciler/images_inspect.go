package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"text/template"
	"time"

	moby "github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

func newImageInspectCmd() *cobra.Command {
	return newRawInspectCmd("inspect [OPTIONS] IMAGE [IMAGE...]", "Display detailed information on one or more images",
		"Format output using a Go template ({{.Id}}, {{.Config.Cmd}}, {{json .RootFS}})",
		func(ctx context.Context, c *moby.Client, ref string) (json.RawMessage, error) {
			var raw bytes.Buffer
			_, err := c.ImageInspect(ctx, ref, moby.ImageInspectWithRawResponse(&raw))
			return raw.Bytes(), err
		})
}

// newRawInspectCmd is an inspect command (image, network): the JSON of
// each argument from get, as an array or through -f's template, then the
// arguments that failed (exit 1).
func newRawInspectCmd(use, short, formatHelp string, get func(ctx context.Context, c *moby.Client, ref string) (json.RawMessage, error)) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  imageArgs(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var tmpl *template.Template
			if format != "" && format != "json" {
				var err error
				if tmpl, err = template.New("format").Funcs(imageTemplateFuncs).Parse(format); err != nil {
					return imageUsageError(cmd, "invalid --format: "+err.Error())
				}
			}
			return inspectEach(cmd, args, tmpl, get)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", formatHelp)
	return cmd
}

// inspectEach is the body of an inspect command: the JSON of each ref
// from get, printed by printInspect, then the refs that failed (exit 1).
func inspectEach(cmd *cobra.Command, refs []string, tmpl *template.Template, get func(ctx context.Context, c *moby.Client, ref string) (json.RawMessage, error)) error {
	return viaAPI(cmd, func(ctx context.Context, c *moby.Client) error {
		var found []json.RawMessage
		var failed []string
		for _, ref := range refs {
			raw, err := get(ctx, c, ref)
			if err != nil {
				failed = append(failed, err.Error())
				continue
			}
			found = append(found, raw)
		}
		if err := printInspect(cmd.OutOrStdout(), found, tmpl); err != nil {
			return err
		}
		return imageFailures(failed)
	})
}

// printInspect writes the engine's JSON objects as docker inspect does:
// an array indented by 4 spaces, or each object through tmpl, which sees
// the JSON (so {{.Id}} works).
func printInspect(out io.Writer, objs []json.RawMessage, tmpl *template.Template) error {
	if tmpl != nil {
		for _, raw := range objs {
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				return err
			}
			if err := tmpl.Execute(out, m); err != nil {
				return fmt.Errorf("template: %w", err)
			}
			fmt.Fprintln(out)
		}
		return nil
	}
	if objs == nil {
		objs = []json.RawMessage{}
	}
	b, err := json.Marshal(objs)
	if err != nil {
		return err
	}
	var ind bytes.Buffer
	if err := json.Indent(&ind, b, "", "    "); err != nil {
		return err
	}
	ind.WriteByte('\n')
	_, err = out.Write(ind.Bytes())
	return err
}

func newImageHistoryCmd() *cobra.Command {
	var noTrunc, quiet bool
	cmd := &cobra.Command{
		Use:   "history [OPTIONS] IMAGE",
		Short: "Show the history of an image",
		Args:  imageArgs(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return viaAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				res, err := c.ImageHistory(ctx, args[0])
				if err != nil {
					return err
				}
				w := tabwriter.NewWriter(cmd.OutOrStdout(), 10, 1, 3, ' ', 0) // docker's table
				if !quiet {
					fmt.Fprintln(w, "IMAGE\tCREATED\tCREATED BY\tSIZE\tCOMMENT")
				}
				for _, h := range res.Items {
					id := h.ID
					if !noTrunc && id != "<missing>" {
						id = imageShortID(id)
					}
					if quiet {
						fmt.Fprintln(w, id)
						continue
					}
					by := h.CreatedBy
					if !noTrunc && len([]rune(by)) > 45 {
						by = string([]rune(by)[:44]) + "…"
					}
					var created time.Time
					if h.Created > 0 {
						created = time.Unix(h.Created, 0)
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", id, imageAgo(created), by, imageHumanSize(h.Size), h.Comment)
				}
				return w.Flush()
			})
		},
	}
	cmd.Flags().BoolVar(&noTrunc, "no-trunc", false, "Don't truncate output")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "Only show image IDs")
	return cmd
}
