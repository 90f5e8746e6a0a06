package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	units "github.com/docker/go-units"
	moby "github.com/moby/moby/client"
	"github.com/spf13/cobra"
)

func init() {
	commands = append(commands, newBuildCmd)
}

// newBuildCmd is `reconciler build`, docker build's classic builder in
// docker's spelling: the context folder goes to the engine as a tar
// (through the Docker API, see apiClient), filtered by its .dockerignore.
func newBuildCmd() *cobra.Command {
	var (
		opts       moby.ImageBuildOptions
		dockerfile string
		buildArgs  []string
		labels     []string
	)
	cmd := &cobra.Command{
		Use:   "build [OPTIONS] PATH | -",
		Short: "Build an image from a Dockerfile",
		Long: "Build an image from a Dockerfile and the build context at PATH (or, with -, a tar of the context or a\n" +
			"Dockerfile alone read from stdin). Every step is cached:\n" +
			"an unchanged rebuild creates nothing and a changed file rebuilds from the step that COPYs it.",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return &exitError{code: 2, msg: fmt.Sprintf("Error: %q requires exactly 1 argument (the build context).\nSee '%s --help'.", cmd.CommandPath(), cmd.CommandPath())}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			args2, err := parseBuildArgs(buildArgs)
			if err != nil {
				return &exitError{code: 2, msg: "Error: " + err.Error()}
			}
			if opts.Labels, err = parseLabelFlags(labels); err != nil {
				return &exitError{code: 2, msg: "Error: " + err.Error()}
			}
			opts.BuildArgs = map[string]*string{}
			for k, v := range args2 {
				opts.BuildArgs[k] = &v
			}
			tar, err := openBuildContext(cmd, args[0], dockerfile, &opts)
			if err != nil {
				return err
			}
			opts.Remove = true
			return viaAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				up := &contextUpload{r: tar, sent: make(chan struct{})}
				defer up.Close()
				res, err := c.ImageBuild(ctx, up, opts)
				if err != nil {
					return err
				}
				defer res.Body.Close()
				out := cmd.OutOrStdout()
				if !opts.SuppressOutput {
					out = &uploadReport{ctx: ctx, w: out, up: up}
				}
				return displayStream(res.Body, out, nil)
			})
		},
	}
	f := cmd.Flags()
	f.StringArrayVarP(&opts.Tags, "tag", "t", nil, `Name and optionally a tag in the "name:tag" format (repeatable)`)
	f.StringVarP(&dockerfile, "file", "f", "", `Path of the Dockerfile, relative to the current directory, or "-" for stdin (default: "PATH/Dockerfile")`)
	f.BoolVarP(&opts.SuppressOutput, "quiet", "q", false, "Suppress the build output and print image ID on success")
	f.StringArrayVar(&buildArgs, "build-arg", nil, "Set build-time variables (KEY=VALUE, or KEY to take it from the environment; repeatable)")
	f.BoolVar(&opts.NoCache, "no-cache", false, "Do not use cache when building the image")
	f.StringVar(&opts.Target, "target", "", "Set the target build stage to build")
	f.StringArrayVar(&labels, "label", nil, "Set metadata for an image (KEY=VALUE, repeatable)")
	return cmd
}

// openBuildContext is the tar to send for the context PATH ("-": stdin)
// and -f, setting the Dockerfile's name in it in opts.
func openBuildContext(cmd *cobra.Command, path, dockerfile string, opts *moby.ImageBuildOptions) (io.ReadCloser, error) {
	if path == "-" {
		if dockerfile == "-" {
			return nil, usageError(cmd, "invalid argument: can't use stdin for both build context and dockerfile")
		}
		tar, name, err := stdinBuildContext(cmd.InOrStdin(), dockerfile)
		opts.Dockerfile = name
		return tar, err
	}
	var dfStdin []byte
	if dockerfile == "-" {
		var err error
		if dfStdin, err = io.ReadAll(cmd.InOrStdin()); err != nil {
			return nil, fmt.Errorf("reading the Dockerfile from stdin: %w", err)
		}
	}
	bc, err := newBuildContext(path, dockerfile, dfStdin)
	if err != nil {
		return nil, err
	}
	opts.Dockerfile = bc.dockerfile
	return bc.Tar(), nil
}

// contextUpload counts the context's bytes as the client sends them, and
// says when all are sent.
type contextUpload struct {
	r    io.ReadCloser
	n    int64
	once sync.Once
	sent chan struct{} // closed at EOF or Close
}

func (u *contextUpload) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	u.n += int64(n)
	if err != nil {
		u.once.Do(func() { close(u.sent) })
	}
	return n, err
}

func (u *contextUpload) Close() error {
	u.once.Do(func() { close(u.sent) })
	return u.r.Close()
}

// uploadReport starts the build's output with docker's "Sending build
// context" line (its \r\r as docker's progress writer leaves them). The
// engine reads the whole context before it says anything, so waiting for
// the upload's end costs nothing.
type uploadReport struct {
	ctx     context.Context
	w       io.Writer
	up      *contextUpload
	printed bool
}

func (r *uploadReport) Write(p []byte) (int, error) {
	if !r.printed {
		r.printed = true
		select {
		case <-r.up.sent:
			fmt.Fprintf(r.w, "Sending build context to Docker daemon  %s\r\r\n", units.HumanSize(float64(r.up.n)))
		case <-r.ctx.Done():
		}
	}
	return r.w.Write(p)
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
