package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reconciler/reconciler/engine/local"
	"github.com/reconciler/reconciler/layerstore/build"
)

func init() {
	commands = append(commands, newBuildCmd)
}

// newBuildCmd is `reconciler build`, docker build's classic builder in
// docker's spelling, working on the state root's image store in process.
func newBuildCmd() *cobra.Command {
	var (
		opts      build.Options
		buildArgs []string
		labels    []string
		quiet     bool
	)
	cmd := &cobra.Command{
		Use:   "build [OPTIONS] PATH",
		Short: "Build an image from a Dockerfile",
		Long: "Build an image from a Dockerfile and the build context at PATH. Every step is cached:\n" +
			"an unchanged rebuild creates nothing and a changed file rebuilds from the step that COPYs it.",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &exitError{code: 2, msg: fmt.Sprintf("Error: %q requires exactly 1 argument (the build context).\nSee '%s --help'.", cmd.CommandPath(), cmd.CommandPath())}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if opts.BuildArgs, err = parseBuildArgs(buildArgs); err != nil {
				return &exitError{code: 2, msg: "Error: " + err.Error()}
			}
			if opts.Labels, err = parseLabelFlags(labels); err != nil {
				return &exitError{code: 2, msg: "Error: " + err.Error()}
			}
			opts.ContextDir = args[0]
			if opts.Dockerfile == "-" {
				df, cleanup, err := stdinDockerfile(cmd.InOrStdin())
				if err != nil {
					return err
				}
				defer cleanup()
				opts.Dockerfile = df
			}
			if opts.Dockerfile != "" && !filepath.IsAbs(opts.Dockerfile) {
				// -f is relative to the current directory, as with docker.
				if opts.Dockerfile, err = filepath.Abs(opts.Dockerfile); err != nil {
					return err
				}
			}
			opts.Progress = cmd.OutOrStdout()
			if quiet {
				opts.Progress = io.Discard
			}
			e, err := openLocal()
			if err != nil {
				return err
			}
			defer e.Close()
			opts.Runner = local.BuildRunner{R: e.Runtime()}
			img, err := build.Build(cmd.Context(), e.ImageStore(), opts)
			if err == nil && quiet {
				fmt.Fprintln(cmd.OutOrStdout(), img.ID)
			}
			return err
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&opts.Tags, "tag", "t", nil, `Name and optionally a tag in the "name:tag" format (repeatable)`)
	f.StringVarP(&opts.Dockerfile, "file", "f", "", `Path of the Dockerfile, relative to the current directory, or "-" for stdin (default: "PATH/Dockerfile")`)
	f.BoolVarP(&quiet, "quiet", "q", false, "Suppress the build output and print image ID on success")
	f.StringArrayVar(&buildArgs, "build-arg", nil, "Set build-time variables (KEY=VALUE, or KEY to take it from the environment; repeatable)")
	f.BoolVar(&opts.NoCache, "no-cache", false, "Do not use cache when building the image")
	f.StringVar(&opts.Target, "target", "", "Set the target build stage to build")
	f.StringArrayVar(&labels, "label", nil, "Set metadata for an image (KEY=VALUE, repeatable)")
	return cmd
}

// stdinDockerfile saves a Dockerfile read from stdin (-f -) to a temporary
// file for the build.
func stdinDockerfile(in io.Reader) (string, func(), error) {
	f, err := os.CreateTemp("", "Dockerfile-")
	if err != nil {
		return "", nil, err
	}
	cleanup := func() { os.Remove(f.Name()) }
	_, err = io.Copy(f, in)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("reading the Dockerfile from stdin: %w", err)
	}
	return f.Name(), cleanup, nil
}

// parseBuildArgs reads --build-arg values: KEY=VALUE, or KEY alone for the
// value of that environment variable (skipped when unset), as docker does.
func parseBuildArgs(flags []string) (map[string]string, error) {
	m := map[string]string{}
	for _, s := range flags {
		k, v, ok := strings.Cut(s, "=")
		if k == "" {
			return nil, fmt.Errorf("invalid build-arg %q: want KEY=VALUE", s)
		}
		if !ok {
			if v, ok = os.LookupEnv(k); !ok {
				continue
			}
		}
		m[k] = v
	}
	return m, nil
}
