package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	units "github.com/docker/go-units"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/layerstore"
	"github.com/reconciler/reconciler/layerstore/archive"
	"github.com/reconciler/reconciler/layerstore/registry"
)

func init() {
	commands = append(commands,
		newImageCmd, newImagesCmd,
		// docker's top-level shortcuts
		func() *cobra.Command { c := newImageRmCmd(); c.Use = "rmi [OPTIONS] IMAGE [IMAGE...]"; return c },
		newImageTagCmd, newImageSaveCmd, newImageLoadCmd, newImageImportCmd,
		newImagePullCmd, newImagePushCmd, newImageHistoryCmd,
	)
}

// newImageCmd is `reconciler image`, docker image's commands in docker's
// spelling, working on the state root's image store in process.
func newImageCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "image", Short: "Manage images"}
	ls := newImagesCmd()
	ls.Use, ls.Aliases = "ls [OPTIONS] [REPOSITORY[:TAG]]", []string{"list"}
	rm := newImageRmCmd()
	rm.Aliases = []string{"remove"}
	cmd.AddCommand(ls, newImageInspectCmd(), rm, newImagePruneCmd(), newImageSaveCmd(), newImageLoadCmd(),
		newImageImportCmd(), newImagePullCmd(), newImagePushCmd(), newImageTagCmd(), newImageHistoryCmd())
	return cmd
}

// openImages opens the image store of the state root given by --root.
func openImages() (*layerstore.Store, error) {
	return layerstore.Open(filepath.Join(global.root, "images"))
}

func imageUsageError(cmd *cobra.Command, msg string) error {
	return &exitError{code: 2, msg: "Error: " + msg + "\nSee '" + cmd.CommandPath() + " --help'."}
}

// imageArgs checks the positional argument count, docker-style (exit 2).
func imageArgs(min, max int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min || max >= 0 && len(args) > max {
			want := fmt.Sprintf("%d", min)
			switch {
			case max < 0:
				want = fmt.Sprintf("at least %d", min)
			case max != min:
				want = fmt.Sprintf("%d to %d", min, max)
			}
			return imageUsageError(cmd, fmt.Sprintf("%q requires %s argument(s).", cmd.CommandPath(), want))
		}
		return nil
	}
}

func imageShortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func imageHumanSize(n int64) string { return units.HumanSizeWithPrecision(float64(n), 3) }

func imageAgo(t time.Time) string {
	if t.IsZero() {
		return "N/A"
	}
	return units.HumanDuration(time.Since(t)) + " ago"
}

// imageSplitTag splits "repo:tag" at the tag's colon (not a registry port's).
func imageSplitTag(ref string) (repo, tag string) {
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		return ref[:i], ref[i+1:]
	}
	return ref, ""
}

func newImagesCmd() *cobra.Command {
	var all, quiet, noTrunc bool
	cmd := &cobra.Command{
		Use:   "images [OPTIONS] [REPOSITORY[:TAG]]",
		Short: "List images",
		Args:  imageArgs(0, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
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
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 3, ' ', 0)
			if !quiet {
				fmt.Fprintln(w, "REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE")
			}
			seen := map[string]bool{}
			for _, img := range imgs {
				id := imageShortID(img.ID.String())
				if noTrunc {
					id = img.ID.String()
				}
				tags := img.RepoTags
				if len(tags) == 0 {
					if !all && parents[img.ID.String()] {
						continue // an intermediate image of a build
					}
					tags = []string{"<none>:<none>"}
				}
				for _, t := range tags {
					repo, tag := imageSplitTag(t)
					if len(args) == 1 && !imageMatchesRepo(args[0], repo, tag) {
						continue
					}
					if quiet {
						if !seen[id] {
							fmt.Fprintln(w, id)
							seen[id] = true
						}
						continue
					}
					fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", repo, tag, id, imageAgo(img.Created), imageHumanSize(img.Size))
				}
			}
			return w.Flush()
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&all, "all", "a", false, "Show all images (default hides intermediate images)")
	f.BoolVarP(&quiet, "quiet", "q", false, "Only show image IDs")
	f.BoolVar(&noTrunc, "no-trunc", false, "Don't truncate output")
	return cmd
}

// imageMatchesRepo is docker images' REPOSITORY[:TAG] argument.
func imageMatchesRepo(arg, repo, tag string) bool {
	r, t := imageSplitTag(arg)
	if n, err := layerstore.NormalizeTag(r); err == nil {
		r, _ = imageSplitTag(n)
	}
	return r == repo && (t == "" || t == tag)
}

// imageInspectJSON is docker image inspect's JSON for an image.
type imageInspectJSON struct {
	ID           string   `json:"Id"`
	RepoTags     []string `json:"RepoTags"`
	RepoDigests  []string `json:"RepoDigests"`
	Parent       string   `json:"Parent"`
	Comment      string   `json:"Comment"`
	Created      string   `json:"Created"`
	Author       string   `json:"Author"`
	Config       any      `json:"Config"`
	Architecture string   `json:"Architecture"`
	Os           string   `json:"Os"`
	Size         int64    `json:"Size"`
	RootFS       struct {
		Type   string   `json:"Type"`
		Layers []string `json:"Layers"`
	} `json:"RootFS"`
}

func imageToInspect(img *layerstore.Image) imageInspectJSON {
	x := imageInspectJSON{
		ID: img.ID.String(), RepoTags: img.RepoTags, RepoDigests: []string{}, Parent: img.Parent.String(),
		Author: img.Config.Author, Config: img.Config.Config, Architecture: img.Config.Architecture, Os: img.Config.OS, Size: img.Size,
	}
	if x.RepoTags == nil {
		x.RepoTags = []string{}
	}
	if !img.Created.IsZero() {
		x.Created = img.Created.UTC().Format(time.RFC3339Nano)
	}
	if h := img.Config.History; len(h) > 0 {
		x.Comment = h[len(h)-1].Comment
	}
	x.RootFS.Type = "layers"
	x.RootFS.Layers = []string{}
	for _, l := range img.Layers {
		x.RootFS.Layers = append(x.RootFS.Layers, l.DiffID.String())
	}
	return x
}

func newImageInspectCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "inspect IMAGE [IMAGE...]",
		Short: "Display detailed information on one or more images",
		Args:  imageArgs(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openImages()
			if err != nil {
				return err
			}
			out := []imageInspectJSON{}
			var failed []string
			for _, ref := range args {
				img, err := s.Resolve(ref)
				if err != nil {
					failed = append(failed, "Error: No such image: "+ref)
					continue
				}
				out = append(out, imageToInspect(img))
			}
			b, err := json.MarshalIndent(out, "", "    ")
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), string(b))
			return imageFailures(failed)
		},
	}
	return cmd
}

// imageFailures ends a command that handled several arguments with exit
// code 1 after one line per failed argument.
func imageFailures(lines []string) error {
	if len(lines) == 0 {
		return nil
	}
	return &exitError{code: 1, msg: strings.Join(lines, "\n")}
}

func newImageRmCmd() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "rm [OPTIONS] IMAGE [IMAGE...]",
		Short: "Remove one or more images",
		Long:  "Remove images: a tag is untagged, and the image is deleted once it has no tag left, no container\nuses it and no image is built on it. Layers nothing else uses are deleted with it.",
		Args:  imageArgs(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openImages()
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			var failed []string
			for _, ref := range args {
				untagged, deleted, err := s.Remove(ref, force)
				if err != nil {
					failed = append(failed, "Error response from daemon: "+err.Error())
					continue
				}
				for _, t := range untagged {
					fmt.Fprintln(out, "Untagged:", t)
				}
				for _, d := range deleted {
					fmt.Fprintln(out, "Deleted:", d)
				}
			}
			return imageFailures(failed)
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Force removal of the image")
	return cmd
}

func newImagePruneCmd() *cobra.Command {
	var all, force bool
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused images",
		Args:  imageArgs(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			warning := "WARNING! This will remove all dangling images."
			if all {
				warning = "WARNING! This will remove all images without at least one container associated to them."
			}
			if !force {
				fmt.Fprintf(cmd.OutOrStdout(), "%s\nAre you sure you want to continue? [y/N] ", warning)
				line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if err != nil && !errors.Is(err, io.EOF) {
					return err
				}
				if a := strings.ToLower(strings.TrimSpace(line)); a != "y" && a != "yes" {
					return nil
				}
			}
			s, err := openImages()
			if err != nil {
				return err
			}
			deleted, reclaimed, err := s.Prune(all)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if len(deleted) > 0 {
				fmt.Fprintln(out, "Deleted Images:")
				for _, d := range deleted {
					fmt.Fprintln(out, "deleted:", d)
				}
				fmt.Fprintln(out)
			}
			fmt.Fprintln(out, "Total reclaimed space:", imageHumanSize(reclaimed))
			return nil
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "Remove all unused images, not just dangling ones")
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	return cmd
}

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

func newImageTagCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
		Short: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
		Args:  imageArgs(2, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openImages()
			if err != nil {
				return err
			}
			return s.Tag(args[0], args[1])
		},
	}
}

func newImageHistoryCmd() *cobra.Command {
	var noTrunc, quiet bool
	cmd := &cobra.Command{
		Use:   "history [OPTIONS] IMAGE",
		Short: "Show the history of an image",
		Args:  imageArgs(1, 1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := openImages()
			if err != nil {
				return err
			}
			img, err := s.Resolve(args[0])
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 3, ' ', 0)
			if !quiet {
				fmt.Fprintln(w, "IMAGE\tCREATED\tCREATED BY\tSIZE\tCOMMENT")
			}
			for _, r := range imageHistoryRows(img) {
				id := "<missing>"
				if r.top {
					id = imageShortID(img.ID.String())
					if noTrunc {
						id = img.ID.String()
					}
				}
				if quiet {
					fmt.Fprintln(w, id)
					continue
				}
				by := r.createdBy
				if !noTrunc && len(by) > 45 {
					by = by[:44] + "…"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", id, imageAgo(r.created), by, imageHumanSize(r.size), r.comment)
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&noTrunc, "no-trunc", false, "Don't truncate output")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "Only show image IDs")
	return cmd
}

type imageHistoryRow struct {
	top                bool
	created            time.Time
	createdBy, comment string
	size               int64
}

// imageHistoryRows are the config's history entries, newest first, each
// non-empty one sized by its layer (an image without history gets one
// row per layer).
func imageHistoryRows(img *layerstore.Image) []imageHistoryRow {
	var rows []imageHistoryRow
	li := 0
	if len(img.Config.History) == 0 {
		for _, l := range img.Layers {
			rows = append(rows, imageHistoryRow{created: img.Created, size: l.TarSize})
		}
	}
	for _, h := range img.Config.History {
		r := imageHistoryRow{createdBy: h.CreatedBy, comment: h.Comment}
		if h.Created != nil {
			r.created = *h.Created
		}
		if !h.EmptyLayer && li < len(img.Layers) {
			r.size = img.Layers[li].TarSize
			li++
		}
		rows = append(rows, r)
	}
	slices.Reverse(rows)
	if len(rows) > 0 {
		rows[0].top = true
	}
	return rows
}
