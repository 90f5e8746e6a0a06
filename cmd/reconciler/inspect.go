package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/template"

	cerrdefs "github.com/containerd/errdefs"
	moby "github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

func newInspectCmd() *cobra.Command {
	var format, kind string
	cmd := &cobra.Command{
		Use:                   "inspect [OPTIONS] NAME|ID [NAME|ID...]",
		DisableFlagsInUseLine: true,
		Short:                 "Return low-level information on containers and images",
		Long:                  "Print the daemon's JSON for containers (or, for a name that is no container, images) as a JSON\narray, or each through a Go template given with -f ({{.State.Running}}, {{json .Config}}).",
		Args:                  containerArgs(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if kind != "" && kind != "container" && kind != "image" {
				return containerUsageError(cmd, fmt.Sprintf("%q is not a valid value for --type: use container or image", kind))
			}
			var tmpl *template.Template
			if format != "" && format != "json" {
				var err error
				format = strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(format)
				if tmpl, err = template.New("format").Funcs(imageTemplateFuncs).Parse(format); err != nil {
					return containerUsageError(cmd, "invalid --format: "+err.Error())
				}
			}
			return withAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				var found []json.RawMessage
				var failed []string
				var err error
				for _, ref := range args {
					raw, err := inspectRaw(ctx, c, ref, kind)
					if err != nil {
						failed = append(failed, err.Error())
						continue
					}
					found = append(found, raw)
				}
				out := cmd.OutOrStdout()
				if tmpl == nil {
					err = printJSONArray(out, found)
				} else {
					err = printTemplated(out, tmpl, found)
				}
				if err != nil {
					return err
				}
				if len(failed) > 0 {
					return &exitError{code: 1, msg: strings.Join(failed, "\n")}
				}
				return nil
			})
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "", "Format output: 'json' or a Go template")
	cmd.Flags().StringVar(&kind, "type", "", "Only inspect objects of the given type (container or image)")
	return cmd
}

// inspectRaw is the daemon's JSON for ref: a container, else (unless kind
// says which) an image.
func inspectRaw(ctx context.Context, c *moby.Client, ref, kind string) (json.RawMessage, error) {
	if kind != "image" {
		res, err := c.ContainerInspect(ctx, ref, moby.ContainerInspectOptions{})
		if err == nil {
			return res.Raw, nil
		}
		if kind == "container" || !cerrdefs.IsNotFound(err) {
			return nil, err
		}
	}
	var raw bytes.Buffer
	if _, err := c.ImageInspect(ctx, ref, moby.ImageInspectWithRawResponse(&raw)); err != nil {
		if kind == "" && cerrdefs.IsNotFound(err) {
			return nil, fmt.Errorf("Error: No such object: %s", ref)
		}
		return nil, err
	}
	return json.RawMessage(raw.Bytes()), nil
}

// printJSONArray prints objects as docker inspect does: one JSON array
// indented by four spaces ("[]" when empty).
func printJSONArray(out io.Writer, objs []json.RawMessage) error {
	if objs == nil {
		objs = []json.RawMessage{}
	}
	b, err := json.Marshal(objs)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, b, "", "    "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err = out.Write(buf.Bytes())
	return err
}

// printTemplated prints each object through tmpl, one per line; numbers
// stay as the daemon wrote them.
func printTemplated(out io.Writer, tmpl *template.Template, objs []json.RawMessage) error {
	for _, raw := range objs {
		var v any
		d := json.NewDecoder(bytes.NewReader(raw))
		d.UseNumber()
		if err := d.Decode(&v); err != nil {
			return err
		}
		var line bytes.Buffer
		if err := tmpl.Execute(&line, v); err != nil {
			return &exitError{code: 1, msg: "template parsing error: " + err.Error()}
		}
		fmt.Fprintln(out, line.String())
	}
	return nil
}
