package dockerapi

import (
	"fmt"
	"strings"
	"time"
)

// FamiliarRef is the short form Docker shows for an image reference:
// "docker.io/library/mini:1" and "mini" become "mini:1" and "mini:latest";
// other registries keep their host ("localhost:5000/foo/mini:3"). IDs and
// digests are returned unchanged.
func FamiliarRef(ref string) string {
	if strings.HasPrefix(ref, "sha256:") {
		return ref
	}
	ref = strings.TrimPrefix(ref, "docker.io/")
	ref = strings.TrimPrefix(ref, "index.docker.io/")
	ref = strings.TrimPrefix(ref, "library/")
	if strings.Contains(ref, "@") {
		return ref
	}
	last := ref[strings.LastIndex(ref, "/")+1:]
	if !strings.Contains(last, ":") {
		ref += ":latest"
	}
	return ref
}

// JoinRef makes "repo:tag" from a tag or import request, in familiar
// form. repo may be fully qualified and may carry its own tag when tag is
// empty ("imported:1"); no tag at all means latest.
func JoinRef(repo, tag string) string {
	if tag == "" {
		return FamiliarRef(repo)
	}
	return FamiliarRef(repo + ":" + tag)
}

// ContainerStatus is the human status `docker ps` shows, which the server
// composes: "Up 5 minutes", "Exited (0) 3 seconds ago", "Created".
func ContainerStatus(state string, exitCode int, started, finished, now time.Time) string {
	switch state {
	case "running":
		return "Up " + HumanDuration(now.Sub(started))
	case "restarting":
		return fmt.Sprintf("Restarting (%d) %s ago", exitCode, HumanDuration(now.Sub(finished)))
	case "exited":
		if finished.IsZero() {
			return fmt.Sprintf("Exited (%d)", exitCode)
		}
		return fmt.Sprintf("Exited (%d) %s ago", exitCode, HumanDuration(now.Sub(finished)))
	case "dead":
		return "Dead"
	case "paused":
		return "Up " + HumanDuration(now.Sub(started)) + " (Paused)"
	default:
		return "Created"
	}
}

// HumanDuration is Docker's rough duration ("Less than a second",
// "3 seconds", "About a minute", "2 hours", ...).
func HumanDuration(d time.Duration) string {
	switch s := int(d.Seconds()); {
	case s < 1:
		return "Less than a second"
	case s == 1:
		return "1 second"
	case s < 60:
		return fmt.Sprintf("%d seconds", s)
	}
	switch m := int(d.Minutes()); {
	case m == 1:
		return "About a minute"
	case m < 60:
		return fmt.Sprintf("%d minutes", m)
	}
	switch h := int(d.Round(time.Hour).Hours()); {
	case h == 1:
		return "About an hour"
	case h < 48:
		return fmt.Sprintf("%d hours", h)
	case h < 24*7*2:
		return fmt.Sprintf("%d days", h/24)
	case h < 24*30*2:
		return fmt.Sprintf("%d weeks", h/24/7)
	case h < 24*365*2:
		return fmt.Sprintf("%d months", h/24/30)
	default:
		return fmt.Sprintf("%d years", h/24/365)
	}
}
