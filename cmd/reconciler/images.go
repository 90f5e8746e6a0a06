package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	units "github.com/docker/go-units"
	moby "github.com/moby/moby/client"
	"github.com/spf13/cobra"
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
// spelling and output formats, through the Docker API (see apiClient).
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

// imageFailures ends a command that handled several arguments with exit
// code 1 after one line per failed argument.
func imageFailures(lines []string) error {
	if len(lines) == 0 {
		return nil
	}
	return &exitError{code: 1, msg: strings.Join(lines, "\n")}
}

func newImageRmCmd() *cobra.Command {
	var force, noPrune bool
	cmd := &cobra.Command{
		Use:   "rm [OPTIONS] IMAGE [IMAGE...]",
		Short: "Remove one or more images",
		Long:  "Remove images: a tag is untagged, and the image is deleted once it has no tag left, no container\nuses it and no image is built on it. Layers nothing else uses are deleted with it.",
		Args:  imageArgs(1, -1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return viaAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				out := cmd.OutOrStdout()
				var failed []string
				for _, ref := range args {
					res, err := c.ImageRemove(ctx, ref, moby.ImageRemoveOptions{Force: force, PruneChildren: !noPrune})
					if err != nil {
						failed = append(failed, err.Error())
						continue
					}
					for _, d := range res.Items {
						if d.Untagged != "" {
							fmt.Fprintln(out, "Untagged:", d.Untagged)
						} else {
							fmt.Fprintln(out, "Deleted:", d.Deleted)
						}
					}
				}
				return imageFailures(failed)
			})
		},
	}
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Force removal of the image")
	cmd.Flags().BoolVar(&noPrune, "no-prune", false, "Do not delete untagged parents")
	return cmd
}

func newImagePruneCmd() *cobra.Command {
	var all, force bool
	var filters []string
	cmd := &cobra.Command{
		Use:   "prune [OPTIONS]",
		Short: "Remove unused images",
		Args:  imageArgs(0, 0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := parseFilterFlags(filters)
			if err == nil {
				err = checkFilterKeys(f, "label", "label!", "until")
			}
			if err != nil {
				return imageUsageError(cmd, err.Error())
			}
			f.Add("dangling", strconv.FormatBool(!all))
			if !force {
				warning := "WARNING! This will remove all dangling images."
				if all {
					warning = "WARNING! This will remove all images without at least one container associated to them."
				}
				ok, err := confirmPrompt(cmd.InOrStdin(), cmd.OutOrStdout(), warning)
				if err != nil || !ok {
					return err
				}
			}
			return viaAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				res, err := c.ImagePrune(ctx, moby.ImagePruneOptions{Filters: f})
				if err != nil {
					return err
				}
				out := cmd.OutOrStdout()
				if rep := res.Report; len(rep.ImagesDeleted) > 0 {
					fmt.Fprintln(out, "Deleted Images:")
					for _, d := range rep.ImagesDeleted {
						if d.Untagged != "" {
							fmt.Fprintln(out, "untagged:", d.Untagged)
						} else {
							fmt.Fprintln(out, "deleted:", d.Deleted)
						}
					}
					fmt.Fprintln(out)
				}
				fmt.Fprintln(out, "Total reclaimed space:", units.HumanSize(float64(res.Report.SpaceReclaimed)))
				return nil
			})
		},
	}
	cmd.Flags().BoolVarP(&all, "all", "a", false, "Remove all unused images, not just dangling ones")
	cmd.Flags().BoolVarP(&force, "force", "f", false, "Do not prompt for confirmation")
	cmd.Flags().StringArrayVar(&filters, "filter", nil, "Provide filter values (label=KEY[=VALUE], label!=KEY[=VALUE], until=TIMESTAMP)")
	return cmd
}

func newImageTagCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
		Short: "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
		Args:  imageArgs(2, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return viaAPI(cmd, func(ctx context.Context, c *moby.Client) error {
				_, err := c.ImageTag(ctx, moby.ImageTagOptions{Source: args[0], Target: args[1]})
				return err
			})
		},
	}
}
