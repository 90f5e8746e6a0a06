package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/layerstore/archive"
	"github.com/reconciler/reconciler/layerstore/registry"
)

func newImageSaveCmd() *cobra.Command {
	var output, format string
	cmd := &cobra.Command{
		Use:   "save [OPTIONS] IMAGE [IMAGE...]",
		Short: "Save one or more images to a tar archive (streamed to STDOUT by default)",
		Args:  imageArgs(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := archive.ParseFormat(format)
			if err != nil {
				return imageUsageError(cmd, err.Error())
			}
			s, err := openImages()
			if err != nil {
				return err
			}
			if output == "" {
				if imageIsTerminal(cmd.OutOrStdout()) {
					return &exitError{code: 1, msg: "Error: cowardly refusing to save to a terminal. Use the -o flag or redirect"}
				}
				return archive.Save(cmd.Context(), s, args, f, cmd.OutOrStdout())
			}
			// Written beside the target and renamed: no half archive.
			tmp, err := os.CreateTemp(filepath.Dir(output), "."+filepath.Base(output)+".")
			if err != nil {
				return err
			}
			defer os.Remove(tmp.Name())
			bw := bufio.NewWriterSize(tmp, 1<<20)
			if err := archive.Save(cmd.Context(), s, args, f, bw); err != nil {
				tmp.Close()
				return err
			}
			if err := bw.Flush(); err != nil {
				tmp.Close()
				return err
			}
			if err := tmp.Chmod(0o644); err != nil {
				tmp.Close()
				return err
			}
			if err := tmp.Sync(); err != nil {
				tmp.Close()
				return err
			}
			if err := tmp.Close(); err != nil {
				return err
			}
			return os.Rename(tmp.Name(), output)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "Write to a file, instead of STDOUT")
	cmd.Flags().StringVar(&format, "format", "docker", "Archive format: docker (docker save, with an OCI index) or oci (OCI image layout)")
	return cmd
}

func imageIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

func newImageLoadCmd() *cobra.Command {
	var input string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "load [OPTIONS]",
		Short: "Load images from a tar archive or STDIN (docker save, OCI layout, or a plain rootfs tar)",
		Args:  imageArgs(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			in := cmd.InOrStdin()
			if input != "" {
				f, err := os.Open(input)
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			s, err := openImages()
			if err != nil {
				return err
			}
			var progress io.Writer = cmd.OutOrStdout()
			if quiet {
				progress = &imageLoadedOnly{w: cmd.OutOrStdout()}
			}
			_, err = archive.Load(cmd.Context(), s, in, progress)
			return err
		},
	}
	cmd.Flags().StringVarP(&input, "input", "i", "", "Read from tar archive file, instead of STDIN")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "Suppress the load output")
	return cmd
}

// imageLoadedOnly passes on only the "Loaded image" lines (docker load -q).
type imageLoadedOnly struct{ w io.Writer }

func (l *imageLoadedOnly) Write(p []byte) (int, error) {
	for _, line := range strings.SplitAfter(string(p), "\n") {
		if strings.HasPrefix(line, "Loaded image") {
			if _, err := io.WriteString(l.w, line); err != nil {
				return 0, err
			}
		}
	}
	return len(p), nil
}

func newImageImportCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "import [OPTIONS] file|- [REPOSITORY[:TAG]]",
		Short: "Import the contents from a tarball to create a filesystem image",
		Args:  imageArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := cmd.InOrStdin()
			if args[0] != "-" {
				f, err := os.Open(args[0])
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			}
			tag := ""
			if len(args) == 2 {
				tag = args[1]
			}
			s, err := openImages()
			if err != nil {
				return err
			}
			img, err := archive.ImportRootfs(cmd.Context(), s, in, tag)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), img.ID)
			return nil
		},
	}
	return cmd
}

func newImagePullCmd() *cobra.Command {
	var quiet, insecure bool
	cmd := &cobra.Command{
		Use:   "pull [OPTIONS] NAME[:TAG|@DIGEST]",
		Short: "Download an image from a registry",
		Args:  imageArgs(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openImages()
			if err != nil {
				return err
			}
			opts := registry.Options{Insecure: insecure}
			if !quiet {
				opts.Progress = cmd.OutOrStdout()
			}
			if _, err := registry.Pull(cmd.Context(), s, args[0], opts); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), args[0])
			return nil
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "Suppress verbose output")
	cmd.Flags().BoolVar(&insecure, "insecure", false, "Allow plain HTTP to the registry (loopback registries are always allowed)")
	return cmd
}

func newImagePushCmd() *cobra.Command {
	var quiet, insecure bool
	cmd := &cobra.Command{
		Use:   "push [OPTIONS] NAME[:TAG]",
		Short: "Upload an image to a registry",
		Args:  imageArgs(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openImages()
			if err != nil {
				return err
			}
			opts := registry.Options{Insecure: insecure}
			if !quiet {
				opts.Progress = cmd.OutOrStdout()
			}
			return registry.Push(cmd.Context(), s, args[0], args[0], opts)
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "Suppress verbose output")
	cmd.Flags().BoolVar(&insecure, "insecure", false, "Allow plain HTTP to the registry (loopback registries are always allowed)")
	return cmd
}
