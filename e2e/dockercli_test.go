package e2e

import (
	"archive/tar"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

var fullID = regexp.MustCompile(`^[0-9a-f]{64}$`)

// TestDockerCLI drives `reconciler daemon` over its unix socket with the
// real docker CLI, command by command, checking what a user sees.
func TestDockerCLI(t *testing.T) {
	requireE2E(t)
	d := startDaemon(t, newRoot(t), daemonOpts{})
	buildBusybox(t, d.cli(t), "bb:e2e")

	t.Run("version-info", func(t *testing.T) {
		c := d.cli(t)
		v := c.ok("version")
		wantContains(t, "docker version", v, "Server:", "API version:       1.41", "OS/Arch:           linux/amd64")
		info := c.ok("info")
		wantContains(t, "docker info", info, "Containers: 0", "Docker Root Dir: "+d.root, "OSType: linux")
		if !regexp.MustCompile(`(?m)^ Images: [1-9]`).MatchString(info) {
			t.Errorf("docker info: want a non-zero Images count after a build:\n%s", info)
		}
	})

	t.Run("run-detached", func(t *testing.T) {
		c := d.cli(t)
		id := strings.TrimSpace(c.ok("run", "-d", "--name", "web", "--label", "app=demo", "--label", "tier=front",
			"-e", "GREETING=hello", "-v", "webdata:/data", "bb:e2e",
			"sh", "-c", `echo "$GREETING" > /data/greeting; echo started; exec sleep 1000`))
		if !fullID.MatchString(id) {
			t.Fatalf("docker run -d printed %q, want a 64-hex container ID", id)
		}
		ps := c.ok("ps")
		row := psRow(t, ps, "web")
		wantContains(t, "docker ps row of web", row, id[:12], "bb:e2e", "Up ")
		if got := c.ok("inspect", "-f", "{{.State.Running}} {{json .Config.Labels}}", "web"); strings.TrimSpace(got) != `true {"app":"demo","tier":"front"}` {
			t.Errorf("inspect web: got %q, want %q", got, `true {"app":"demo","tier":"front"}`)
		}
		if !waitFor(10*time.Second, func() bool { return strings.Contains(c.try("logs", "web").Out, "started") }) {
			t.Errorf("docker logs web: want %q, got %s", "started", c.try("logs", "web"))
		}
		// The env var reached the container and the named volume got its write.
		if got := c.ok("exec", "web", "cat", "/data/greeting"); got != "hello\n" {
			t.Errorf("docker exec web cat /data/greeting = %q, want %q", got, "hello\n")
		}
		r := c.try("exec", "web", "sh", "-c", "echo out-$GREETING; exit 5")
		if r.Code != 5 || r.Out != "out-hello\n" {
			t.Errorf("docker exec web sh -c 'echo out-$GREETING; exit 5': want exit 5 and %q, got %s", "out-hello\n", r)
		}
		if vols := c.ok("volume", "ls", "-q"); !strings.Contains(vols, "webdata") {
			t.Errorf("docker volume ls -q: want webdata (created by run -v), got %q", vols)
		}
		rm := c.fails("rm", "web")
		wantContains(t, "docker rm of a running container", rm.Err, "running")
		if !strings.Contains(c.ok("ps", "-q"), id[:12]) {
			t.Errorf("docker rm web (refused) removed it anyway")
		}
		if got := c.ok("rm", "-f", "web"); strings.TrimSpace(got) != "web" {
			t.Errorf("docker rm -f web printed %q, want web", got)
		}
		if ps := c.ok("ps", "-a"); strings.Contains(ps, "web") {
			t.Errorf("docker ps -a after rm -f still lists web:\n%s", ps)
		}
	})

	t.Run("run-rm-attached", func(t *testing.T) {
		c := d.cli(t)
		r := c.try("run", "--rm", "--name", "once", "bb:e2e", "sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3")
		if r.Code != 3 || r.Out != "to-stdout\n" || !strings.Contains(r.Err, "to-stderr") {
			t.Errorf("docker run --rm (attached): want exit 3, stdout %q, stderr with %q; got %s", "to-stdout\n", "to-stderr", r)
		}
		if !waitFor(5*time.Second, func() bool { return !strings.Contains(c.ok("ps", "-a"), "once") }) {
			t.Errorf("docker run --rm: container still listed:\n%s", c.ok("ps", "-a"))
		}
	})

	t.Run("run-attached-large-output", func(t *testing.T) {
		// About 30 MB of container log: the attach stream must carry all of
		// it once, in order, while the log rotates underneath.
		const last = 400000
		out := d.cli(t).ok("run", "--rm", "bb:e2e", "seq", "0", strconv.Itoa(last))
		got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
		for i, l := range got {
			if l != strconv.Itoa(i) {
				t.Fatalf("docker run --rm bb:e2e seq 0 %d: %d lines; line %d is %q, want %q", last, len(got), i+1, l, strconv.Itoa(i))
			}
		}
		if len(got) != last+1 {
			t.Errorf("docker run --rm bb:e2e seq 0 %d: %d lines, want %d", last, len(got), last+1)
		}
	})

	t.Run("run-stdin", func(t *testing.T) {
		// echo foo | docker run -i --rm IMG cat (contract §5: raw stdin on
		// the hijacked attach, then a half-close that ends cat).
		c := d.cli(t)
		r := c.runIn(strings.NewReader("from stdin\n"), "run", "-i", "--rm", "bb:e2e", "cat")
		if r.Code != 0 || r.Out != "from stdin\n" {
			t.Errorf("echo 'from stdin' | docker run -i --rm bb:e2e cat: want %q, got %s", "from stdin\n", r)
		}
		c.ok("create", "-i", "--name", "stdin", "bb:e2e", "cat")
		if got := c.ok("inspect", "-f", "{{.Config.OpenStdin}}", "stdin"); got != "true\n" {
			t.Errorf("docker create -i: Config.OpenStdin = %q, want true (start -ai reads it to decide on attaching stdin)", got)
		}
		r = c.runIn(strings.NewReader("via start\n"), "start", "-ai", "stdin")
		if r.Code != 0 || r.Out != "via start\n" {
			t.Errorf("echo 'via start' | docker start -ai stdin: want %q, got %s", "via start\n", r)
		}
		c.try("rm", "-f", "stdin")
	})

	t.Run("run-tty", func(t *testing.T) {
		// docker run -t: raw output through a terminal (contract §4.2), the
		// same raw bytes in docker logs.
		c := d.cli(t)
		r := c.try("run", "-t", "--name", "tty", "bb:e2e", "sh", "-c", "tty >/dev/null && echo on-a-tty")
		if r.Code != 0 || r.Out != "on-a-tty\r\n" {
			t.Errorf("docker run -t: want %q (a terminal's CRLF), got %s", "on-a-tty\r\n", r)
		}
		if r.Code == 0 {
			if got := c.ok("logs", "tty"); got != "on-a-tty\r\n" {
				t.Errorf("docker logs of a -t container = %q, want %q", got, "on-a-tty\r\n")
			}
		}
		c.try("rm", "-f", "tty")
	})

	t.Run("exec", func(t *testing.T) {
		c := d.cli(t)
		c.ok("run", "-d", "--name", "ex", "bb:e2e", "sleep", "1000")
		r := c.runIn(strings.NewReader("to exec\n"), "exec", "-i", "ex", "cat")
		if r.Code != 0 || r.Out != "to exec\n" {
			t.Errorf("echo 'to exec' | docker exec -i ex cat: %s", r)
		}
		if got := c.ok("exec", "-e", "FOO=bar", "-w", "/bin", "ex", "sh", "-c", "echo $FOO $(pwd)"); got != "bar /bin\n" {
			t.Errorf("docker exec -e FOO=bar -w /bin: got %q, want %q", got, "bar /bin\n")
		}
		// dockerd: exit 126 and the runtime's error when the binary is missing.
		r = c.try("exec", "ex", "nosuchbinary")
		if r.Code != 126 || !strings.Contains(r.Out+r.Err, "nosuchbinary") {
			t.Errorf("docker exec ex nosuchbinary: want exit 126 naming the binary, got %s", r)
		}
		c.ok("stop", "-t", "1", "ex")
		r = c.fails("exec", "ex", "true")
		wantContains(t, "docker exec into a stopped container", r.Err, "is not running")
		c.ok("rm", "ex")
	})

	t.Run("lifecycle", func(t *testing.T) {
		c := d.cli(t)
		c.ok("run", "-d", "--name", "life", "bb:e2e", "sleep", "1000")
		started1 := c.ok("inspect", "-f", "{{.State.StartedAt}}", "life")
		if got := c.ok("stop", "-t", "1", "life"); got != "life\n" {
			t.Errorf("docker stop printed %q, want %q", got, "life\n")
		}
		if got := c.ok("inspect", "-f", "{{.State.Running}} {{.State.Status}}", "life"); got != "false exited\n" {
			t.Errorf("after stop: inspect = %q, want %q", got, "false exited\n")
		}
		if ps := c.ok("ps"); strings.Contains(ps, "life") {
			t.Errorf("docker ps lists a stopped container:\n%s", ps)
		}
		wantContains(t, "docker ps -a row of life", psRow(t, c.ok("ps", "-a"), "life"), "Exited (")
		if got := c.ok("start", "life"); got != "life\n" {
			t.Errorf("docker start printed %q, want %q", got, "life\n")
		}
		if got := c.ok("inspect", "-f", "{{.State.Running}}", "life"); got != "true\n" {
			t.Errorf("after start: State.Running = %q", got)
		}
		started2 := c.ok("inspect", "-f", "{{.State.StartedAt}}", "life")
		if started2 == started1 {
			t.Errorf("docker start: StartedAt unchanged (%s)", started1)
		}
		if got := c.ok("restart", "-t", "1", "life"); got != "life\n" {
			t.Errorf("docker restart printed %q, want %q", got, "life\n")
		}
		if got := c.ok("inspect", "-f", "{{.State.Running}}", "life"); got != "true\n" {
			t.Errorf("after restart: State.Running = %q", got)
		}
		if started3 := c.ok("inspect", "-f", "{{.State.StartedAt}}", "life"); started3 == started2 {
			t.Errorf("docker restart: StartedAt unchanged (%s)", started2)
		}
		if got := c.ok("kill", "life"); got != "life\n" {
			t.Errorf("docker kill printed %q, want %q", got, "life\n")
		}
		if got := c.ok("wait", "life"); got != "137\n" {
			t.Errorf("docker wait after kill printed %q, want %q", got, "137\n")
		}
		if got := c.ok("inspect", "-f", "{{.State.ExitCode}}", "life"); got != "137\n" {
			t.Errorf("after kill: State.ExitCode = %q, want 137", got)
		}
		c.ok("rm", "life")
	})

	t.Run("isolation-and-policies", func(t *testing.T) {
		c := d.cli(t)
		id := strings.TrimSpace(c.ok("create", "--name", "iso", "bb:e2e", "sh", "-c", "echo $$; hostname"))
		if got, want := c.ok("start", "-a", "iso"), "1\n"+id[:12]+"\n"; got != want {
			t.Errorf("docker start -a iso (PID and default hostname): got %q, want %q", got, want)
		}
		c.ok("rm", "iso")
		if got := c.ok("run", "--rm", "-h", "myhost", "-u", "1000:1000", "-w", "/etc", "bb:e2e", "sh", "-c", "hostname; id -u; id -g; pwd"); got != "myhost\n1000\n1000\n/etc\n" {
			t.Errorf("docker run -h myhost -u 1000:1000 -w /etc: got %q", got)
		}
		// Docker's defaults: its capability set, no_new_privs, no mounts,
		// read-only /sys and /proc/sys, masked /proc/kcore.
		probe := `grep -E "^(CapEff|NoNewPrivs)" /proc/self/status | tr -s "\t" " "
mkdir -p /mnt; mount -t tmpfs none /mnt 2>/dev/null && echo mount-allowed || echo mount-refused
touch /sys/x 2>/dev/null && echo sys-writable || echo sys-read-only
(echo 1 > /proc/sys/kernel/panic) 2>/dev/null && echo procsys-writable || echo procsys-read-only
cat /proc/kcore >/dev/null 2>&1 && echo kcore-readable || echo kcore-masked`
		want := "CapEff: 00000000a80425fb\nNoNewPrivs: 1\nmount-refused\nsys-read-only\nprocsys-read-only\nkcore-masked\n"
		if got := c.ok("run", "--rm", "bb:e2e", "sh", "-c", probe); got != want {
			t.Errorf("container confinement (Docker's defaults):\ngot  %q\nwant %q", got, want)
		}
		r := c.try("run", "--name", "oom", "-m", "32m", "bb:e2e", "sh", "-c", "head -c 200m /dev/zero | tail > /dev/null")
		if r.Code != 137 {
			t.Errorf("docker run -m 32m of a 200 MB memory hog: want exit 137, got %s", r)
		}
		if got := c.ok("inspect", "-f", "{{.State.OOMKilled}}", "oom"); got != "true\n" {
			t.Errorf("OOM-killed container: State.OOMKilled = %q", got)
		}
		c.ok("rm", "oom")
		c.ok("run", "-d", "--name", "onfail", "--restart", "on-failure:2", "bb:e2e", "sh", "-c", "exit 1")
		if !waitFor(10*time.Second, func() bool {
			return c.try("inspect", "-f", "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}", "onfail").Out == "2 exited 1\n"
		}) {
			t.Errorf("--restart on-failure:2 of a failing command: inspect = %q, want RestartCount 2, exited, code 1",
				c.try("inspect", "-f", "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}", "onfail").Out)
		}
		c.ok("rm", "-f", "onfail")
	})

	t.Run("logs-follow", func(t *testing.T) {
		c := d.cli(t)
		c.ok("run", "-d", "--name", "counter", "bb:e2e", "sh", "-c", "for i in 1 2 3 4 5; do echo n$i; sleep 0.2; done")
		f := c.background("logs", "-f", "counter")
		if !f.exited(20 * time.Second) {
			t.Fatalf("docker logs -f counter still following 20s after a 1s container; output so far: %q", f.out.String())
		}
		if want := "n1\nn2\nn3\nn4\nn5\n"; f.out.String() != want {
			t.Errorf("docker logs -f counter = %q, want %q (stderr %q)", f.out.String(), want, f.errb.String())
		}
		c.ok("rm", "counter")
	})

	t.Run("images", func(t *testing.T) {
		c := d.cli(t)
		if got := c.ok("tag", "bb:e2e", "mini:1"); got != "" {
			t.Errorf("docker tag printed %q", got)
		}
		imgs := c.ok("images")
		bbID := imageID(t, imgs, "bb", "e2e")
		if miniID := imageID(t, imgs, "mini", "1"); miniID != bbID {
			t.Errorf("docker images: mini:1 has ID %s, bb:e2e %s; a tag must name the same image", miniID, bbID)
		}
		tarPath := filepath.Join(t.TempDir(), "mini.tar")
		c.ok("save", "-o", tarPath, "mini:1")
		wantTarEntries(t, tarPath, "manifest.json", "repositories")
		for _, l := range rows(imgs) {
			if strings.Contains(l, "years ago") || strings.Contains(l, " 0B") {
				t.Errorf("docker images row with an unset creation time or size: %q", l)
			}
		}
		rmi := c.ok("rmi", "mini:1")
		wantContains(t, "docker rmi mini:1", rmi, "Untagged: mini:1")
		if strings.Contains(rmi, "Deleted:") {
			t.Errorf("docker rmi mini:1 deleted an image still tagged bb:e2e:\n%s", rmi)
		}
		if imgs := c.ok("images"); strings.Contains(imgs, "mini") {
			t.Errorf("docker images after rmi still lists mini:\n%s", imgs)
		}
		load := c.ok("load", "-i", tarPath)
		wantContains(t, "docker load", load, "Loaded image: mini:1")
		if id := imageID(t, c.ok("images"), "mini", "1"); id != bbID {
			t.Errorf("loaded mini:1 has ID %s, saved %s", id, bbID)
		}

		c.ok("run", "-d", "--name", "tocommit", "bb:e2e", "sh", "-c", "echo changed > /marker; exec sleep 1000")
		if !waitFor(10*time.Second, func() bool { return c.try("exec", "tocommit", "cat", "/marker").Out == "changed\n" }) {
			t.Fatalf("container tocommit did not write /marker: %s", c.try("exec", "tocommit", "cat", "/marker"))
		}
		cid := strings.TrimSpace(c.ok("commit", "tocommit", "snap:1"))
		if !strings.HasPrefix(cid, "sha256:") {
			t.Errorf("docker commit printed %q, want sha256:<id>", cid)
		}
		if got := c.ok("run", "--rm", "snap:1", "cat", "/marker"); got != "changed\n" {
			t.Errorf("docker run --rm snap:1 cat /marker = %q, want %q", got, "changed\n")
		}
		if r := c.try("run", "--rm", "bb:e2e", "cat", "/marker"); r.Code == 0 {
			t.Errorf("the base image bb:e2e has /marker after commit (the container layer leaked into it): %s", r)
		}
		c.ok("rm", "-f", "tocommit")
		wantContains(t, "docker rmi snap:1", c.ok("rmi", "snap:1"), "Untagged: snap:1", "Deleted: sha256:")
		if imgs := c.ok("images"); strings.Contains(imgs, "snap") {
			t.Errorf("docker images after rmi still lists snap:\n%s", imgs)
		}
	})

	t.Run("build-cache", func(t *testing.T) {
		c := d.cli(t)
		df := "FROM bb:e2e\nRUN echo built-by-run > /built\nCMD [\"cat\", \"/built\"]\n"
		first := buildFrom(t, c, "app:1", df)
		wantContains(t, "docker build", first, "Step 1/3 : FROM bb:e2e", "Step 2/3 : RUN echo built-by-run > /built", "Successfully tagged app:1")
		second := buildFrom(t, c, "app:1", df)
		wantContains(t, "docker build again", second, "Using cache")
		idRe := regexp.MustCompile(`Successfully built ([0-9a-f]{12})`)
		m1, m2 := idRe.FindStringSubmatch(first), idRe.FindStringSubmatch(second)
		if m1 == nil || m2 == nil || m1[1] != m2[1] {
			t.Errorf("the same Dockerfile built twice gave different images:\n%s\n%s", first, second)
		}
		if got := c.ok("run", "--rm", "app:1"); got != "built-by-run\n" {
			t.Errorf("docker run --rm app:1 (CMD from the build) = %q", got)
		}
		c.ok("rmi", "app:1")
	})

	t.Run("volumes", func(t *testing.T) {
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
	})

	t.Run("events", func(t *testing.T) {
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
	})

	t.Run("events-live", func(t *testing.T) {
		// An open stream sees an event as it happens (the controller's use).
		c := d.cli(t)
		ev := c.background("events", "--filter", "type=container", "--filter", "event=start",
			"--format", "{{.Actor.Attributes.name}} {{.Action}}")
		time.Sleep(300 * time.Millisecond) // let the stream open before the event
		c.ok("run", "--rm", "--name", "live", "bb:e2e", "true")
		if !waitFor(5*time.Second, func() bool { return strings.Contains(ev.out.String(), "live start") }) {
			t.Errorf("docker events (streaming) did not show %q within 5s: %q %q", "live start", ev.out.String(), ev.errb.String())
		}
		if strings.Contains(ev.out.String(), "die") {
			t.Errorf("docker events --filter event=start let other actions through: %q", ev.out.String())
		}
	})

	t.Run("system-df", func(t *testing.T) {
		c := d.cli(t)
		c.ok("volume", "create", "dfvol")
		df := c.ok("system", "df")
		for _, row := range []string{"Images", "Containers", "Local Volumes", "Build Cache"} {
			if !regexp.MustCompile(`(?m)^` + row + `\s+\d+\s+\d+\s+`).MatchString(df) {
				t.Errorf("docker system df: no %q row with TOTAL and ACTIVE:\n%s", row, df)
			}
		}
		if strings.Contains(df, "-") && regexp.MustCompile(`\s-\d`).MatchString(df) {
			t.Errorf("docker system df shows a negative size:\n%s", df)
		}
		c.ok("volume", "rm", "dfvol")
	})
}

// wantTarEntries checks that a docker-archive tar holds the named entries.
func wantTarEntries(t *testing.T, path string, names ...string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]bool{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("docker save wrote a broken tar %s: %v", path, err)
		}
		seen[h.Name] = true
	}
	for _, n := range names {
		if !seen[n] {
			t.Errorf("docker save: the archive lacks %s (has %v)", n, seen)
		}
	}
}

// psRow is the `docker ps` line whose NAMES column is name.
func psRow(t *testing.T, ps, name string) string {
	t.Helper()
	for _, l := range lines(ps) {
		if f := strings.Fields(l); len(f) > 0 && f[len(f)-1] == name {
			return l
		}
	}
	t.Fatalf("docker ps: no row for %s:\n%s", name, ps)
	return ""
}

// imageID is the IMAGE ID column of the `docker images` row repo:tag.
func imageID(t *testing.T, images, repo, tag string) string {
	t.Helper()
	for _, l := range lines(images) {
		if f := strings.Fields(l); len(f) >= 3 && f[0] == repo && f[1] == tag {
			return f[2]
		}
	}
	t.Fatalf("docker images: no row %s:%s:\n%s", repo, tag, images)
	return ""
}
