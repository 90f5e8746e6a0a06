package main

import (
	"archive/tar"
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"github.com/distribution/reference"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	moby "github.com/moby/moby/client"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/atomicfile"
)

func newImageSaveCmd() *cobra.Command {
	var output, format string
	cmd := &cobra.Command{
		Use:   "save [OPTIONS] IMAGE [IMAGE...]",
		Short: "Save one or more images to a tar archive (streamed to STDOUT by default)",
		Args:  imageArgs(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var oci bool
			switch strings.ToLower(format) {
			case "", "docker":
			case "oci":
				oci = true
			default:
				return imageUsageError(cmd, fmt.Sprintf("unknown archive format %q: use docker or oci", format))
			}
			if err := refuseTerminal(cmd, output); err != nil {
				return err
			}
			return viaAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				body, err := c.ImageSave(ctx, args)
				if err != nil {
					return err
				}
				defer body.Close()
				var archive io.ReadCloser = body
				if oci {
					archive = ociLayoutOnly(body)
					defer archive.Close()
				}
				return writeArchive(cmd, output, archive)
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "Write to a file, instead of STDOUT")
	cmd.Flags().StringVar(&format, "format", "docker", "Archive format: docker (docker save, with an OCI index) or oci (OCI image layout)")
	return cmd
}

// ociLayoutOnly streams a docker-save archive without the files only
// docker load reads (manifest.json, repositories): what is left is the
// OCI image layout docker 25+ writes beside them.
func ociLayoutOnly(docker io.Reader) io.ReadCloser {
	pr, pw := io.Pipe()
	go func() {
		tr, tw := tar.NewReader(docker), tar.NewWriter(pw)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				pw.CloseWithError(tw.Close())
				return
			}
			if err == nil && (h.Name == "manifest.json" || h.Name == "repositories") {
				continue
			}
			if err == nil {
				err = tw.WriteHeader(h)
			}
			if err == nil {
				_, err = io.Copy(tw, tr)
			}
			if err != nil {
				pw.CloseWithError(fmt.Errorf("save --format oci: %w", err))
				return
			}
		}
	}()
	return pr
}

// writeFileAtomic writes r beside path and renames it into place: no half
// archive is left under path.
// refuseTerminal is docker's refusal to write an archive to a terminal
// (save, export) when no -o file is given.
func refuseTerminal(cmd *cobra.Command, output string) error {
	if output == "" && imageIsTerminal(cmd.OutOrStdout()) {
		return &exitError{code: 1, msg: "Error: cowardly refusing to save to a terminal. Use the -o flag or redirect"}
	}
	return nil
}

// writeArchive writes an archive to the file output, atomically, or to
// stdout when output is "".
func writeArchive(cmd *cobra.Command, output string, r io.Reader) error {
	if output == "" {
		_, err := io.Copy(cmd.OutOrStdout(), r)
		return err
	}
	return writeFileAtomic(output, r)
}

func writeFileAtomic(path string, r io.Reader) error {
	f, err := atomicfile.Create(path, 0o644)
	if err != nil {
		return err
	}
	defer f.Abort()
	bw := bufio.NewWriterSize(f, 1<<20)
	if _, err := io.Copy(bw, r); err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	return f.Commit()
}

func imageIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// openInput is a file named on the command line, or stdin for "" or "-".
func openInput(cmd *cobra.Command, path string) (io.ReadCloser, error) {
	if path == "" || path == "-" {
		return io.NopCloser(cmd.InOrStdin()), nil
	}
	return os.Open(path)
}

func newImageLoadCmd() *cobra.Command {
	var input string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "load [OPTIONS]",
		Short: "Load images from a tar archive or STDIN (docker save, OCI layout, or a plain rootfs tar)",
		Args:  imageArgs(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			in, err := openInput(cmd, input)
			if err != nil {
				return err
			}
			defer in.Close()
			return viaAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				// As docker: only the "Loaded image" lines unless a
				// terminal shows the progress.
				quiet := quiet || !imageIsTerminal(cmd.OutOrStdout())
				body, err := c.ImageLoad(ctx, in, moby.ImageLoadWithQuiet(quiet))
				if err != nil {
					return err
				}
				defer body.Close()
				return displayStream(body, cmd.OutOrStdout(), nil)
			})
		},
	}
	cmd.Flags().StringVarP(&input, "input", "i", "", "Read from tar archive file, instead of STDIN")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "Suppress the load output")
	return cmd
}

func newImageImportCmd() *cobra.Command {
	var message string
	var changes []string
	cmd := &cobra.Command{
		Use:   "import [OPTIONS] file|- [REPOSITORY[:TAG]]",
		Short: "Import the contents from a tarball to create a filesystem image",
		Args:  imageArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref := ""
			if len(args) == 2 {
				ref = args[1]
			}
			in, err := openInput(cmd, args[0])
			if err != nil {
				return err
			}
			defer in.Close()
			return viaAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				body, err := c.ImageImport(ctx, moby.ImageImportSource{Source: in, SourceName: "-"}, ref,
					moby.ImageImportOptions{Message: message, Changes: changes})
				if err != nil {
					return err
				}
				defer body.Close()
				return displayStream(body, cmd.OutOrStdout(), nil)
			})
		},
	}
	cmd.Flags().StringVarP(&message, "message", "m", "", "Set commit message for imported image")
	cmd.Flags().StringArrayVarP(&changes, "change", "c", nil, "Apply Dockerfile instruction to the created image (CMD, ENV, LABEL, ...; repeatable)")
	return cmd
}

func newImagePullCmd() *cobra.Command {
	return newRegistryCmd("pull [OPTIONS] NAME[:TAG|@DIGEST]", "Download an image from a registry", true,
		func(ctx context.Context, c *moby.Client, ref, auth string) (io.ReadCloser, error) {
			return c.ImagePull(ctx, ref, moby.ImagePullOptions{RegistryAuth: auth})
		})
}

func newImagePushCmd() *cobra.Command {
	return newRegistryCmd("push [OPTIONS] NAME[:TAG]", "Upload an image to a registry", false,
		func(ctx context.Context, c *moby.Client, ref, auth string) (io.ReadCloser, error) {
			return c.ImagePush(ctx, ref, moby.ImagePushOptions{RegistryAuth: auth})
		})
}

// newRegistryCmd is pull or push: transfer starts the engine's transfer of
// ref, whose progress stream is shown unless --quiet. As docker does, pull
// always ends with the reference (printRef); push prints it only when quiet.
func newRegistryCmd(use, short string, printRef bool, transfer func(ctx context.Context, c *moby.Client, ref, auth string) (io.ReadCloser, error)) *cobra.Command {
	var quiet, insecure bool
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Args:  imageArgs(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ref, auth, err := registryRef(args[0], insecure)
			if err != nil {
				return imageUsageError(cmd, err.Error())
			}
			return viaAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				body, err := transfer(ctx, c, ref.String(), auth)
				if err != nil {
					return err
				}
				defer body.Close()
				var progress io.Writer = cmd.OutOrStdout()
				if quiet {
					progress = io.Discard
				}
				if err := displayStream(body, progress, nil); err != nil {
					return err
				}
				if quiet || printRef {
					fmt.Fprintln(cmd.OutOrStdout(), ref.String())
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "Suppress verbose output")
	cmd.Flags().BoolVar(&insecure, "insecure", false, "Allow plain HTTP to a loopback registry (the engine always does; other registries need TLS)")
	return cmd
}

// registryRef reads a pull or push reference as docker does (busybox is
// docker.io/library/busybox:latest) and finds the user's credentials for
// its registry in docker's config (and credential helpers), sent to the
// engine as X-Registry-Auth. --insecure cannot travel over the API: it is
// accepted for loopback registries, which engines reach over plain HTTP
// anyway, and refused for others.
func registryRef(s string, insecure bool) (reference.Named, string, error) {
	ref, err := reference.ParseNormalizedNamed(s)
	if err != nil {
		return nil, "", fmt.Errorf("invalid reference %q: %v", s, err)
	}
	ref = reference.TagNameOnly(ref)
	domain := reference.Domain(ref)
	if insecure && !isLoopbackHost(domain) {
		return nil, "", fmt.Errorf("--insecure is only possible for loopback registries, not %s: the engine reaches other registries over TLS", domain)
	}
	repo, err := name.NewRepository(reference.Path(ref), name.WithDefaultRegistry(domain))
	if err != nil {
		return ref, "", nil // the engine will say what is wrong with it
	}
	a, err := authn.DefaultKeychain.Resolve(repo)
	if err != nil || a == authn.Anonymous {
		return ref, "", nil
	}
	cfg, err := a.Authorization()
	if err != nil || *cfg == (authn.AuthConfig{}) {
		return ref, "", nil
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, "", err
	}
	return ref, base64.URLEncoding.EncodeToString(b), nil
}

func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
