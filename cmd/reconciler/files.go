package main

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	moby "github.com/moby/moby/client"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/tarsafe"
)

// docker cp, diff and export: the container file system commands, over
// the Docker API like the other container commands.

func init() {
	commands = append(commands, newCpCmd, newExportCmd)
}

func newExportCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:                   "export [OPTIONS] CONTAINER",
		DisableFlagsInUseLine: true,
		Short:                 "Export a container's filesystem as a tar archive",
		Args:                  containerArgs(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := refuseTerminal(cmd, output); err != nil {
				return err
			}
			return viaAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				body, err := c.ContainerExport(ctx, args[0], moby.ContainerExportOptions{})
				if err != nil {
					return err
				}
				defer body.Close()
				return writeArchive(cmd, output, body)
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "Write to a file, instead of STDOUT")
	return cmd
}

// containerDiff prints a container's changes as docker diff does.
func containerDiff(cmd *cobra.Command, ref string) error {
	return viaAPI(cmd, func(ctx context.Context, c *moby.Client) error {
		res, err := c.ContainerDiff(ctx, ref, moby.ContainerDiffOptions{})
		if err != nil {
			return err
		}
		for _, ch := range res.Changes {
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", ch.Kind, ch.Path)
		}
		return nil
	})
}

func newCpCmd() *cobra.Command {
	var archive, follow bool
	cmd := &cobra.Command{
		Use:                   "cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n  reconciler cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH",
		DisableFlagsInUseLine: true,
		Short:                 "Copy files/folders between a container and the local filesystem",
		Long: "Copy files/folders between a container and the local filesystem, as docker cp: - reads or writes\n" +
			"a tar archive on stdin/stdout. Paths in the container resolve inside it, running or stopped.",
		Args: containerArgs(2, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			srcCtr, src := splitCpArg(args[0])
			dstCtr, dst := splitCpArg(args[1])
			switch {
			case srcCtr != "" && dstCtr != "":
				return containerUsageError(cmd, "copying between containers is not supported")
			case srcCtr == "" && dstCtr == "":
				return containerUsageError(cmd, "must specify at least one container source")
			}
			return viaAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				if srcCtr != "" {
					return copyFromContainer(ctx, cmd, c, srcCtr, src, dst, follow)
				}
				return copyToContainer(ctx, cmd, c, src, dstCtr, dst, archive, follow)
			})
		},
	}
	cmd.Flags().BoolVarP(&archive, "archive", "a", false, "Archive mode (copy all uid/gid information)")
	cmd.Flags().BoolVarP(&follow, "follow-link", "L", false, "Always follow symbol link in SRC_PATH")
	return cmd
}

// splitCpArg splits "CONTAINER:PATH"; a local path (absolute, or with
// no colon, or "./x:y") gives "" as container.
func splitCpArg(arg string) (ctr, p string) {
	if path.IsAbs(arg) || strings.HasPrefix(arg, ".") {
		return "", arg
	}
	ctr, p, ok := strings.Cut(arg, ":")
	if !ok {
		return "", arg
	}
	return ctr, p
}

func copyFromContainer(ctx context.Context, cmd *cobra.Command, c *moby.Client, ctr, src, dst string, follow bool) error {
	if follow {
		st, err := c.ContainerStatPath(ctx, ctr, moby.ContainerStatPathOptions{Path: src})
		if err != nil {
			return err
		}
		if st.Stat.LinkTarget != "" {
			src = st.Stat.LinkTarget
		}
	}
	res, err := c.CopyFromContainer(ctx, ctr, moby.CopyFromContainerOptions{SourcePath: src})
	if err != nil {
		return err
	}
	defer res.Content.Close()
	if dst == "-" {
		_, err := io.Copy(cmd.OutOrStdout(), res.Content)
		return err
	}
	srcIsDir := res.Stat.Mode.IsDir()
	contents := strings.HasSuffix(src, "/.")
	into, rename, err := cpTarget(dst, srcIsDir, func(p string) (bool, bool, error) {
		fi, err := os.Stat(p)
		if os.IsNotExist(err) {
			return false, false, nil
		}
		return err == nil, err == nil && fi.IsDir(), err
	})
	if err != nil {
		return err
	}
	content := io.Reader(res.Content)
	if rename != "" {
		from := res.Stat.Name
		if contents {
			from = "." // the server names a directory's contents "./..."
		}
		content = renameTop(content, from, rename)
	}
	// As docker: what is copied out belongs to whoever copies it.
	owner := &tarsafe.Owner{UID: os.Getuid(), GID: os.Getgid()}
	_, err = tarsafe.Extract(ctx, into, content, tarsafe.Options{Owner: owner})
	return err
}

func copyToContainer(ctx context.Context, cmd *cobra.Command, c *moby.Client, src, ctr, dst string, archive, follow bool) error {
	opts := moby.CopyToContainerOptions{CopyUIDGID: archive}
	if src == "-" {
		opts.DestinationPath, opts.Content = dst, cmd.InOrStdin()
		_, err := c.CopyToContainer(ctx, ctr, opts)
		return err
	}
	if follow {
		resolved, err := filepath.EvalSymlinks(src)
		if err != nil {
			return err
		}
		src = resolved
	}
	fi, err := os.Lstat(src)
	if err != nil {
		return fmt.Errorf("could not stat %s: %w", src, err)
	}
	contents := strings.HasSuffix(src, "/.")
	into, rename, err := cpTarget(dst, fi.IsDir(), func(p string) (bool, bool, error) {
		st, err := c.ContainerStatPath(ctx, ctr, moby.ContainerStatPathOptions{Path: p})
		if err != nil {
			return false, false, nil // missing (or unreadable: the copy then says why)
		}
		return true, st.Stat.Mode.IsDir(), nil
	})
	if err != nil {
		return err
	}
	name := filepath.Base(src)
	if contents {
		name = "."
	}
	if rename != "" {
		name = rename
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(tarHostPath(ctx, src, name, pw)) }()
	defer pr.Close()
	opts.DestinationPath, opts.Content = into, pr
	_, err = c.CopyToContainer(ctx, ctr, opts)
	return err
}

// cpTarget applies docker cp's destination rules: into an existing
// directory the source keeps its name; a missing destination (whose
// parent must exist) or an existing file is replaced, the source taking
// the destination's name. It returns the directory to extract into and
// the new name of the top entry ("" to keep it). stat reports whether a
// destination path exists and is a directory.
func cpTarget(dst string, srcIsDir bool, stat func(string) (exists, isDir bool, err error)) (into, rename string, err error) {
	exists, isDir, err := stat(dst)
	if err != nil {
		return "", "", err
	}
	switch {
	case exists && isDir:
		return dst, "", nil
	case exists && srcIsDir:
		return "", "", fmt.Errorf("cannot copy a directory to a file: %s", dst)
	case !exists && (strings.HasSuffix(dst, "/") || strings.HasSuffix(dst, "/.")) && !srcIsDir:
		return "", "", fmt.Errorf("destination directory %s does not exist", dst)
	}
	clean := path.Clean(dst)
	dir, base := path.Dir(clean), path.Base(clean)
	return dir, base, nil
}

// renameTop renames the top entry of a tar (from, and all below it) to to.
func renameTop(r io.Reader, from, to string) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		tr, tw := tar.NewReader(r), tar.NewWriter(pw)
		for {
			hdr, err := tr.Next()
			if err == io.EOF {
				pw.CloseWithError(tw.Close())
				return
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
			hdr.Name = renamePrefix(hdr.Name, from, to)
			if hdr.Typeflag == tar.TypeLink {
				hdr.Linkname = renamePrefix(hdr.Linkname, from, to)
			}
			if err := tw.WriteHeader(hdr); err == nil {
				_, err = io.Copy(tw, tr)
			}
			if err != nil {
				pw.CloseWithError(err)
				return
			}
		}
	}()
	return pr
}

func renamePrefix(name, from, to string) string {
	if name == from || name == from+"/" {
		return to + strings.TrimPrefix(name, from)
	}
	if rest, ok := strings.CutPrefix(name, from+"/"); ok {
		return to + "/" + rest
	}
	return name
}

// tarHostPath writes a tar of the host path src, its top entry named name.
func tarHostPath(ctx context.Context, src, name string, w io.Writer) error {
	dir, base := filepath.Split(filepath.Clean(src))
	if dir == "" {
		dir = "."
	}
	fd, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	a := tarsafe.NewArchiver(w)
	if err := a.Add(ctx, fd, base, name); err != nil {
		return err
	}
	return a.Close()
}
