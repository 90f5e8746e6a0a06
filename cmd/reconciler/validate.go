package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/reconciler/reconciler/spec"
)

// Annotations on the objects `validate -o` prints. They are ignored when
// the output is read back, so the printed objects are valid manifests.
const (
	annotationSpecHash = "io.reconciler.spec-hash"
	annotationSource   = "io.reconciler.source"
)

func init() {
	commands = append(commands, newValidateCmd)
}

// manifestFlags are -f and -R, shared by every command that reads manifests.
type manifestFlags struct {
	files     []string
	recursive bool
}

func (m *manifestFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringSliceVarP(&m.files, "filename", "f", nil, "manifest file or folder to read; repeatable; - reads stdin")
	cmd.Flags().BoolVarP(&m.recursive, "recursive", "R", false, "also read the manifests in subfolders of folders given with -f")
	_ = cmd.MarkFlagFilename("filename", "yaml", "yml", "json")
}

// load reads the manifests or returns an exitError (code 1) after printing
// every problem, one per line, on stderr.
func (m *manifestFlags) load(cmd *cobra.Command) ([]spec.Object, error) {
	if len(m.files) == 0 {
		return nil, usageError(cmd, "no manifests given: use -f FILE, -f FOLDER or -f - for stdin")
	}
	objs, err := spec.Load(m.files, m.recursive, cmd.InOrStdin())
	var list spec.ErrorList
	if errors.As(err, &list) {
		w := cmd.ErrOrStderr()
		for _, e := range list {
			fmt.Fprintln(w, e)
		}
		fmt.Fprintf(w, "%s in %s\n", plural(len(list), "problem"), plural(len(list.Files()), "file"))
		return nil, &exitError{code: 1}
	}
	return objs, err
}

func newValidateCmd() *cobra.Command {
	var mf manifestFlags
	var output string
	cmd := &cobra.Command{
		Use:   "validate -f PATH... [-R] [-o yaml|json]",
		Short: "Check manifests and list the objects they declare",
		Long: `Validate decodes, defaults and checks manifests without touching any host.
It prints one line per object ("kind/name on host"), or with -o the
defaulted objects and their spec hash, as the reconciler will act on them.
On problems it prints every one, with file, document, line and field, and
exits 1.`,
		Example: `  reconciler validate -f examples/
  reconciler validate -R -f manifests/ -o yaml
  cat app.yaml | reconciler validate -f -`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "" && output != "yaml" && output != "json" {
				return usageError(cmd, fmt.Sprintf("unknown output format %q: use yaml or json", output))
			}
			objs, err := mf.load(cmd)
			if err != nil {
				return err
			}
			return printObjects(cmd.OutOrStdout(), objs, output)
		},
	}
	mf.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "", "print the defaulted objects as yaml or json")
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"yaml", "json"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// printObjects writes one line per object, or the objects as a YAML
// multi-document stream or a JSON stream, each annotated with its hash.
func printObjects(w io.Writer, objs []spec.Object, format string) error {
	for i, o := range objs {
		switch format {
		case "":
			fmt.Fprintln(w, o.Key)
			continue
		case "yaml":
			b, err := yaml.Marshal(annotated(o))
			if err != nil {
				return err
			}
			if i > 0 {
				fmt.Fprintln(w, "---")
			}
			w.Write(b)
		case "json":
			b, err := json.MarshalIndent(annotated(o), "", "  ")
			if err != nil {
				return err
			}
			fmt.Fprintf(w, "%s\n", b)
		}
	}
	return nil
}

// annotated returns a copy of o's document carrying its hash and source.
func annotated(o spec.Object) any {
	meta := o.Meta()
	ann := map[string]string{annotationSpecHash: o.Hash, annotationSource: o.Source.String()}
	for k, v := range meta.Annotations {
		ann[k] = v
	}
	switch {
	case o.Container != nil:
		c := *o.Container
		c.Metadata.Annotations = ann
		return &c
	case o.Image != nil:
		c := *o.Image
		c.Metadata.Annotations = ann
		return &c
	case o.Volume != nil:
		c := *o.Volume
		c.Metadata.Annotations = ann
		return &c
	case o.HostObj != nil:
		c := *o.HostObj
		c.Metadata.Annotations = ann
		return &c
	}
	return nil
}

// usageError is exit code 2 with cobra's usage hint.
func usageError(cmd *cobra.Command, msg string) error {
	return &exitError{code: 2, msg: "Error: " + msg + "\nSee '" + cmd.CommandPath() + " --help'."}
}

// noArgs rejects positional arguments as bad usage (exit 2).
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError(cmd, fmt.Sprintf("unexpected argument %q: give manifests with -f", args[0]))
	}
	return nil
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
