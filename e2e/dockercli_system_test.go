package e2e

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/internal/testutil"
)

// cliVersionInfo covers version and info as the user reads them.
func cliVersionInfo(t *testing.T, d *daemon) {
	c := d.cli(t)
	v := c.ok("version")
	wantContains(t, "docker version", v, "Server:", "API version:       1.41", "OS/Arch:           linux/amd64")
	info := c.ok("info")
	wantContains(t, "docker info", info, "Containers: 0", "Docker Root Dir: "+d.root, "OSType: linux")
	if !regexp.MustCompile(`(?m)^ Images: [1-9]`).MatchString(info) {
		t.Errorf("docker info: want a non-zero Images count after a build:\n%s", info)
	}
}

// cliVolumes covers volume create, ls, inspect, rm (refused while a container,
// running or stopped, uses it).
func cliVolumes(t *testing.T, d *daemon) {
	c := d.cli(t)
	if got := c.ok("volume", "create", "--label", "team=e2e", "vol1"); got != "vol1\n" {
		t.Errorf("docker volume create printed %q, want %q", got, "vol1\n")
	}
	ls := c.ok("volume", "ls")
	if !regexp.MustCompile(`(?m)^local\s+vol1$`).MatchString(ls) {
		t.Errorf("docker volume ls: want a row %q:\n%s", "local  vol1", ls)
	}
	var vols []struct {
		Name, Driver, Mountpoint string
		Labels                   map[string]string
	}
	if err := json.Unmarshal([]byte(c.ok("volume", "inspect", "vol1")), &vols); err != nil || len(vols) != 1 {
		t.Fatalf("docker volume inspect vol1: %v %+v", err, vols)
	}
	if v := vols[0]; v.Name != "vol1" || v.Driver != "local" || v.Labels["team"] != "e2e" || v.Mountpoint != filepath.Join(d.root, "volumes", "vol1", "_data") {
		t.Errorf("docker volume inspect vol1 = %+v, want Name vol1, Driver local, Labels team=e2e, Mountpoint under %s/volumes", v, d.root)
	}
	id := strings.TrimSpace(c.ok("run", "-d", "--name", "voluser", "-v", "vol1:/v", "bb:e2e", "sleep", "1000"))
	r := c.fails("volume", "rm", "vol1")
	wantContains(t, "docker volume rm of an in-use volume", r.Err, "volume is in use", id)
	c.ok("stop", "-t", "1", "voluser")
	r = c.fails("volume", "rm", "vol1") // a stopped container still uses it
	wantContains(t, "docker volume rm of a volume a stopped container uses", r.Err, "volume is in use")
	c.ok("rm", "voluser")
	if got := c.ok("volume", "rm", "vol1"); got != "vol1\n" {
		t.Errorf("docker volume rm printed %q, want %q", got, "vol1\n")
	}
	if ls := c.ok("volume", "ls", "-q"); strings.Contains(ls, "vol1") {
		t.Errorf("docker volume ls after rm still lists vol1: %q", ls)
	}
}

// cliEvents covers events --since/--until: create, start, die and destroy of one
// container, in order, then the stream ends.
func cliEvents(t *testing.T, d *daemon) {
	c := d.cli(t)
	since := time.Now().Unix()
	id := strings.TrimSpace(c.ok("create", "--name", "evc", "bb:e2e", "true"))
	c.ok("start", "-a", "evc")
	c.ok("rm", "evc")
	until := time.Now().Unix() + 1
	time.Sleep(time.Until(time.Unix(until, 0)))
	ev := c.background("events", "--since", strconv.FormatInt(since, 10), "--until", strconv.FormatInt(until, 10))
	if !ev.exited(10 * time.Second) {
		t.Fatalf("docker events --since --until did not end at --until; got so far:\n%s", ev.out.String())
	}
	var actions []string
	for _, l := range lines(ev.out.String()) {
		if f := strings.Fields(l); len(f) >= 4 && f[1] == "container" && f[3] == id {
			actions = append(actions, f[2])
			wantContains(t, "event line", l, "name=evc", "image=bb:e2e")
		}
	}
	got := strings.Join(actions, " ")
	for _, want := range []string{"create", "start", "die", "destroy"} {
		if !strings.Contains(" "+got+" ", " "+want+" ") {
			t.Errorf("docker events: no container %s event for evc; actions %q in:\n%s", want, got, ev.out.String())
		}
	}
	if i, j := strings.Index(got, "create"), strings.Index(got, "die"); i < 0 || j < i {
		t.Errorf("docker events: create must come before die: %q", got)
	}
}

// cliEventsLive covers an open events stream sees an event as it happens (the
// controller's use).
func cliEventsLive(t *testing.T, d *daemon) {
	c := d.cli(t)
	ev := c.background("events", "--filter", "type=container", "--filter", "event=start",
		"--format", "{{.Actor.Attributes.name}} {{.Action}}")
	time.Sleep(300 * time.Millisecond) // let the stream open before the event
	c.ok("run", "--rm", "--name", "live", "bb:e2e", "true")
	if !testutil.WaitFor(5*time.Second, func() bool { return strings.Contains(ev.out.String(), "live start") }) {
		t.Errorf("docker events (streaming) did not show %q within 5s: %q %q", "live start", ev.out.String(), ev.errb.String())
	}
	if strings.Contains(ev.out.String(), "die") {
		t.Errorf("docker events --filter event=start let other actions through: %q", ev.out.String())
	}
}

// cliSystemDf covers system df rows, with no negative size.
func cliSystemDf(t *testing.T, d *daemon) {
	c := d.cli(t)
	c.ok("volume", "create", "dfvol")
	df := c.ok("system", "df")
	for _, row := range []string{"Images", "Containers", "Local Volumes", "Build Cache"} {
		if !regexp.MustCompile(`(?m)^` + row + `\s+\d+\s+\d+\s+`).MatchString(df) {
			t.Errorf("docker system df: no %q row with TOTAL and ACTIVE:\n%s", row, df)
		}
	}
	if regexp.MustCompile(`\s-\d`).MatchString(df) {
		t.Errorf("docker system df shows a negative size:\n%s", df)
	}
	for _, row := range []string{"Images", "Local Volumes"} {
		if !regexp.MustCompile(`(?m)^` + row + `\s+[1-9]`).MatchString(df) {
			t.Errorf("docker system df: %s TOTAL is 0 with one present:\n%s", row, df)
		}
	}
	if v := c.ok("system", "df", "-v"); !strings.Contains(v, "dfvol") {
		t.Errorf("docker system df -v does not list volume dfvol:\n%s", v)
	}
	c.ok("volume", "rm", "dfvol")
}

// cliHousekeeping covers ps filters, container, image and volume prune,
// history and import.
func cliHousekeeping(t *testing.T, d *daemon) {
	c := d.cli(t)
	c.ok("run", "-d", "--name", "keeper", "--label", "role=keep", "bb:e2e", "sleep", "1000")
	exitedID := strings.TrimSpace(c.ok("create", "--name", "leftover", "bb:e2e", "true"))
	c.ok("start", "-a", "leftover")
	if got := c.ok("ps", "-a", "--filter", "label=role=keep", "--format", "{{.Names}}"); got != "keeper\n" {
		t.Errorf("docker ps -a --filter label=role=keep = %q", got)
	}
	if got := c.ok("ps", "-a", "--filter", "status=exited", "--format", "{{.Names}}"); got != "leftover\n" {
		t.Errorf("docker ps -a --filter status=exited = %q", got)
	}
	prune := c.ok("container", "prune", "-f")
	wantContains(t, "docker container prune -f", prune, "Deleted Containers:", exitedID)
	if strings.Contains(c.ok("ps", "-a", "--format", "{{.Names}}"), "leftover") || !strings.Contains(c.ok("ps", "--format", "{{.Names}}"), "keeper") {
		t.Errorf("container prune: want leftover gone and keeper running: %s", c.ok("ps", "-a"))
	}
	c.ok("rm", "-f", "keeper")

	hist := c.ok("history", "bb:e2e")
	wantContains(t, "docker history bb:e2e", hist, "IMAGE", "CREATED BY", "busybox --install -s /bin")

	bb, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Skip("needs /bin/busybox")
	}
	var tarball bytes.Buffer
	tw := tar.NewWriter(&tarball)
	tw.WriteHeader(&tar.Header{Name: "bin/", Typeflag: tar.TypeDir, Mode: 0o755})
	tw.WriteHeader(&tar.Header{Name: "bin/busybox", Mode: 0o755, Size: int64(len(bb))})
	tw.Write(bb)
	tw.WriteHeader(&tar.Header{Name: "bin/echo", Typeflag: tar.TypeSymlink, Linkname: "busybox"})
	tw.Close()
	r := c.runIn(&tarball, "import", "-", "imported:1")
	if r.Code != 0 || !strings.HasPrefix(r.Out, "sha256:") {
		t.Fatalf("docker import - imported:1: %s", r)
	}
	if got := c.ok("run", "--rm", "imported:1", "/bin/echo", "from-import"); got != "from-import\n" {
		t.Errorf("docker run of an imported image = %q", got)
	}
	c.ok("rmi", "imported:1")

	buildFrom(t, c, "dangling:1", "FROM bb:e2e\nRUN echo one > /v\n")
	buildFrom(t, c, "dangling:1", "FROM bb:e2e\nRUN echo two > /v\n") // the first build is now untagged
	prune = c.ok("image", "prune", "-f")
	wantContains(t, "docker image prune -f", prune, "Deleted Images:", "deleted: sha256:")
	if got := c.ok("run", "--rm", "dangling:1", "cat", "/v"); got != "two\n" {
		t.Errorf("image prune broke the tagged image: cat /v = %q", got)
	}
	c.ok("rmi", "dangling:1")

	c.ok("volume", "create", "unused")
	c.ok("run", "-d", "--name", "holder", "-v", "held:/h", "bb:e2e", "sleep", "1000")
	prune = c.ok("volume", "prune", "-f")
	wantContains(t, "docker volume prune -f", prune, "unused")
	if strings.Contains(prune, "held") {
		t.Errorf("docker volume prune removed a volume in use:\n%s", prune)
	}
	c.ok("rm", "-f", "holder")
}
