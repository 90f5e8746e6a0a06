package sandbox

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/runtime/sandbox/internal/nsinit"
)

func TestPID1AndHostname(t *testing.T) {
	out := sh(t, "echo $$; hostname; echo $HOSTNAME", func(c *Config) { c.Hostname = "box1" })
	if got := strings.Fields(out); len(got) != 3 || got[0] != "1" || got[1] != "box1" || got[2] != "box1" {
		t.Fatalf("want pid 1 and hostname box1 (also in $HOSTNAME), got %q", out)
	}
	host, _ := os.Hostname()
	if host == "box1" {
		t.Fatal("the host's hostname changed")
	}
}

func TestDefaultHostnameIsShortID(t *testing.T) {
	cfg, out := testConfig(t, "hostname")
	if st := runContainer(t, cfg); st.Code != 0 {
		t.Fatalf("exit %+v: %s", st, out)
	}
	if got := strings.TrimSpace(out.String()); got != cfg.ID[:12] {
		t.Fatalf("hostname %q, want %q", got, cfg.ID[:12])
	}
}

// maskedScript prints what a container can see of Docker's masked and
// read-only paths; checkMasked checks it.
const maskedScript = `
	for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug; do
		[ -e $f ] && echo "$f $(wc -c < $f)"
	done
	ls /proc/scsi /sys/firmware 2>/dev/null | grep -v : | wc -l
	{ echo x > /proc/sys/kernel/hostname; } 2>/dev/null && echo procsys-writable
	{ echo h > /proc/sysrq-trigger; } 2>/dev/null && echo sysrq-writable
	{ touch /sys/kernel/x; } 2>/dev/null && echo sys-writable
	grep -q ' /sys sysfs ro,' /proc/mounts && echo sys-ro
	grep -q ' /proc/sys proc ro,' /proc/mounts && echo procsys-ro
	true`

func checkMasked(t *testing.T, out string) {
	t.Helper()
	// /proc/keys and /proc/timer_list exist on every kernel this runs on;
	// kcore and sched_debug depend on its configuration.
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(l, "/proc/") && !strings.HasSuffix(l, " 0") {
			t.Errorf("masked path readable: %s", l)
		}
	}
	if _, err := os.Stat("/proc/keys"); err == nil && !strings.Contains(out, "/proc/keys 0\n") {
		t.Errorf("/proc/keys not shown masked")
	}
	out = out[strings.LastIndex(out, " 0\n")+3:]
	want := "0\nsys-ro\nprocsys-ro\n"
	if out != want {
		t.Fatalf("got %q, want %q", out, want)
	}
}

func TestMaskedAndReadOnlyPaths(t *testing.T) { checkMasked(t, sh(t, maskedScript)) }

func TestCapabilitiesAndNoNewPrivs(t *testing.T) {
	out := sh(t, `grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)' /proc/self/status
		mount -t tmpfs none /mnt 2>/dev/null && echo mounted || echo mount-denied`)
	// Docker's default set: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID
	// SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP.
	for _, want := range []string{
		"CapInh:\t0000000000000000", "CapPrm:\t00000000a80425fb", "CapEff:\t00000000a80425fb",
		"CapBnd:\t00000000a80425fb", "CapAmb:\t0000000000000000", "NoNewPrivs:\t1", "mount-denied",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

func TestNonRootUserHasNoCapabilities(t *testing.T) {
	out := sh(t, `id; grep -E '^(CapEff|CapBnd)' /proc/self/status; echo $HOME; pwd`, func(c *Config) {
		c.User = "app"
		c.Cwd = "/work/dir"
	})
	for _, want := range []string{"uid=1000(app) gid=1000(app) groups=50(staff),63(audio)",
		"CapEff:\t0000000000000000", "CapBnd:\t00000000a80425fb", "/home/app\n/work/dir\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}

func TestUserForms(t *testing.T) {
	for user, want := range map[string]string{
		"":            "uid=0(root) gid=0(root)",
		"1000":        "uid=1000(app) gid=1000(app)",
		"1000:50":     "uid=1000(app) gid=50(staff)",
		"app:audio":   "uid=1000(app) gid=63(audio)",
		"4242":        "uid=4242 gid=0(root)",
		"4242:4343":   "uid=4242 gid=4343",
		"nobody:root": "uid=65534(nobody) gid=0(root)",
	} {
		out := sh(t, "id -u -n 2>/dev/null; id", func(c *Config) { c.User = user })
		if !strings.Contains(out, want) {
			t.Errorf("user %q: got %q, want %q", user, out, want)
		}
	}
}

func TestStartErrorsNameTheCause(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.Args = []string{"/bin/web"} }, "exec /bin/web: no such file or directory in the image"},
		{func(c *Config) { c.Args = []string{"web"} }, `"web": executable file not found in $PATH`},
		{func(c *Config) { c.User = "ghost" }, "unable to find user ghost"},
		{func(c *Config) { c.User = "app:ghosts" }, "unable to find group ghosts"},
		{func(c *Config) {
			c.Mounts = []Mount{{Type: "bind", Source: "/nonexistent/src", Target: "/x"}}
		}, "bind mount source /nonexistent/src"},
		{func(c *Config) { c.Hostname = strings.Repeat("h", 65) }, "longer than 64 characters"},
		{func(c *Config) { c.Mounts = []Mount{{Type: "nfs", Target: "/x"}} }, `mounts[0].type "nfs" is not supported`},
		{func(c *Config) { c.Network = "bridge" }, `network "bridge" is not supported`},
		// A container layer that made /proc a link (written into the
		// layer while the container was stopped) cannot redirect it.
		{func(c *Config) { os.Symlink("/etc", filepath.Join(c.UpperDir, "proc")) }, "/proc into the container's root"},
	} {
		cfg, _ := testConfig(t, "true")
		tc.edit(&cfg)
		p, err := Start(cfg)
		startFailed(t, cfg, p, err, tc.want)
	}
}

// startFailed checks that the start of cfg (p, err) failed with an error
// containing want and left no cgroup; a start that worked is waited for
// and cleaned up. It says whether the start failed.
func startFailed(t *testing.T, cfg Config, p *Process, err error, want string) bool {
	t.Helper()
	if err == nil {
		p.Wait()
		Cleanup(cfg)
		t.Errorf("want error containing %q, got none", want)
		return false
	}
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error %q does not contain %q", err, want)
	}
	if _, serr := os.Stat(filepath.Join("/sys/fs/cgroup/pids/reconciler", cfg.ID)); serr == nil {
		t.Errorf("cgroup of failed container %s left behind", cfg.ID)
	}
	return true
}

func TestEnvironmentDefaults(t *testing.T) {
	out := sh(t, `echo "$PATH|$HOME|$FOO"`, func(c *Config) { c.Env = []string{"FOO=bar"} })
	if want := nsinit.DefaultPath[len("PATH="):] + "|/root|bar\n"; out != want {
		t.Fatalf("got %q, want %q", out, want)
	}
	out = sh(t, `echo "$PATH"`, func(c *Config) { c.Env = []string{"PATH=/bin"} })
	if out != "/bin\n" {
		t.Fatalf("explicit PATH replaced: %q", out)
	}
}

// minimalDevScript lists /dev and uses it; checkMinimalDev checks that it
// is Docker's minimal one.
const minimalDevScript = `ls /dev | sort | tr '\n' ' '; echo
	head -c 4 /dev/zero | wc -c; echo x > /dev/null && echo null-ok
	grep -c ' /dev/pts devpts ' /proc/mounts; grep -c ' /dev/shm tmpfs ' /proc/mounts
	echo hi > /dev/shm/f && cat /dev/shm/f
	ls -l /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty | cut -c1-10 | uniq`

func checkMinimalDev(t *testing.T, out string) {
	t.Helper()
	want := "core fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero \n4\nnull-ok\n1\n1\nhi\ncrw-rw-rw-\n"
	if out != want {
		t.Fatalf("got %q, want %q", out, want)
	}
}

func TestMinimalDev(t *testing.T) { checkMinimalDev(t, sh(t, minimalDevScript)) }

func TestNetworkNoneHasOnlyLoopback(t *testing.T) {
	out := sh(t, `ls /sys/class/net; cat /sys/class/net/lo/flags`)
	if out != "lo\n0x9\n" {
		t.Fatalf("want only lo, up (flags 0x9), got %q", out)
	}
}

func TestNetworkHostSeesHostInterfaces(t *testing.T) {
	host, err := os.ReadDir("/sys/class/net")
	if err != nil {
		t.Skip(err)
	}
	out := sh(t, `ls /sys/class/net | wc -l`, func(c *Config) { c.Network = NetworkHost })
	if strings.TrimSpace(out) != itoa(len(host)) {
		t.Fatalf("host has %d interfaces, container sees %s", len(host), out)
	}
}

func TestCopyOnWrite(t *testing.T) {
	cfg, out := testConfig(t, "sh", "-c", "echo changed >> /etc/motd && rm /etc/group && echo new > /created && cat /etc/motd")
	if st := runContainer(t, cfg); st.Code != 0 {
		t.Fatalf("exit %+v: %s", st, out)
	}
	if out.String() != "from the image\nchanged\n" {
		t.Fatalf("output %q", out)
	}
	if b, _ := os.ReadFile(filepath.Join(busyboxLower, "etc/motd")); string(b) != "from the image\n" {
		t.Fatalf("lower layer written: %q", b)
	}
	if _, err := os.Stat(filepath.Join(busyboxLower, "etc/group")); err != nil {
		t.Fatalf("lower layer lost /etc/group: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(cfg.UpperDir, "etc/motd")); string(b) != "from the image\nchanged\n" {
		t.Fatalf("upper /etc/motd = %q", b)
	}
	if b, _ := os.ReadFile(filepath.Join(cfg.UpperDir, "created")); string(b) != "new\n" {
		t.Fatalf("upper /created = %q", b)
	}
	var st os.FileInfo
	if st, _ = os.Lstat(filepath.Join(cfg.UpperDir, "etc/group")); st == nil || st.Mode()&os.ModeCharDevice == 0 {
		t.Fatalf("deleted /etc/group is not a whiteout in the upper dir: %v", st)
	}
	// The overlay lived only in the container's mount namespace.
	if entries, _ := os.ReadDir(cfg.RootfsDir); len(entries) != 0 {
		t.Fatalf("rootfs dir still shows the overlay on the host: %v", entries)
	}
}

func TestMounts(t *testing.T) {
	rw, ro := t.TempDir(), t.TempDir()
	os.WriteFile(filepath.Join(ro, "in"), []byte("ro-data\n"), 0o644)
	file := filepath.Join(t.TempDir(), "single")
	os.WriteFile(file, []byte("one file\n"), 0o644)
	out := sh(t, `
		echo w > /data/out && echo rw-ok
		cat /cfg/in; { echo x > /cfg/new; } 2>/dev/null || echo ro-denied
		cat /etc/single.conf
		echo x > /scratch/f && echo tmpfs-ok; grep ' /scratch ' /proc/mounts | cut -d' ' -f3,4
		touch /frozen/f 2>/dev/null || echo tmpfs-ro-denied`, func(c *Config) {
		c.Mounts = []Mount{
			{Type: "bind", Source: rw, Target: "/data"},
			{Type: "bind", Source: ro, Target: "/cfg", ReadOnly: true},
			{Type: "bind", Source: file, Target: "/etc/single.conf", ReadOnly: true},
			{Type: "tmpfs", Target: "/scratch", Size: 1 << 20},
			{Type: "tmpfs", Target: "/frozen", ReadOnly: true},
		}
	})
	want := "rw-ok\nro-data\nro-denied\none file\ntmpfs-ok\ntmpfs rw,nosuid,nodev,relatime,size=1024k\ntmpfs-ro-denied\n"
	if out != want {
		t.Fatalf("got %q, want %q", out, want)
	}
	if b, _ := os.ReadFile(filepath.Join(rw, "out")); string(b) != "w\n" {
		t.Fatalf("write through bind mount not on host: %q", b)
	}
}

func TestManyLayers(t *testing.T) {
	needRoot(t)
	base := t.TempDir()
	lowers := []string{busyboxLower}
	for i := 1; i < 120; i++ {
		// Long paths like a layer store's: 120 of them do not fit in a page.
		d := filepath.Join(base, strings.Repeat("0", 56)+itoa(1000000+i), "diff")
		if err := os.MkdirAll(filepath.Join(d, "layers"), 0o755); err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(d, "layers", itoa(i)), nil, 0o644)
		os.WriteFile(filepath.Join(d, "top"), []byte(itoa(i)+"\n"), 0o644)
		lowers = append(lowers, d)
	}
	out := sh(t, "ls /layers | wc -l; cat /top", func(c *Config) { c.LowerDirs = lowers })
	if out != "119\n119\n" {
		t.Fatalf("want 119 layer files and the top layer's /top, got %q", out)
	}
}

func TestStartErrorClassifiesProgramFailures(t *testing.T) {
	for args, want := range map[string]struct {
		is   error
		code int
	}{
		"/bin/web":  {os.ErrNotExist, 127},
		"web":       {exec.ErrNotFound, 127},
		"/etc/motd": {os.ErrPermission, 126},
	} {
		cfg, _ := testConfig(t, args)
		_, err := Start(cfg)
		var se *StartError
		if !errors.As(err, &se) || !errors.Is(err, want.is) || se.ExitCode() != want.code {
			t.Errorf("%s: error %v (%#v): want errors.Is %v and exit code %d", args, err, se, want.is, want.code)
		}
	}
	cfg, _ := testConfig(t, "true")
	cfg.User = "ghost"
	_, err := Start(cfg)
	var se *StartError
	if !errors.As(err, &se) || se.Program || se.ExitCode() != 128 {
		t.Errorf("unknown user: %#v", se)
	}
}

// TestDeviceNodesUnusable: a container keeps CAP_MKNOD (Docker's set) but
// a node it makes, anywhere, cannot be opened; the standard ones work.
func TestDeviceNodesUnusable(t *testing.T) {
	vol := t.TempDir()
	out := sh(t, `
		for d in /tmp /dev /dev/shm /vol /scratch; do
			mknod $d/disk b 8 0 && mknod $d/mem c 1 1 || echo mknod-failed-$d
			{ head -c1 $d/disk; } 2>/dev/null && echo OPENED-$d/disk
			{ head -c1 $d/mem; } 2>/dev/null && echo OPENED-$d/mem
		done
		echo x > /dev/null && head -c 3 /dev/zero | wc -c && head -c 3 /dev/urandom | wc -c
		echo x > /dev/full 2>/dev/null || echo full-is-full
		true`, func(c *Config) {
		c.Mounts = []Mount{{Type: "bind", Source: vol, Target: "/vol"}, {Type: "tmpfs", Target: "/scratch"}}
	})
	if out != "3\n3\nfull-is-full\n" {
		t.Fatalf("got %q", out)
	}
}

func TestEtcFiles(t *testing.T) {
	files, err := EtcFiles("web1", NetworkNone, Names{})
	if err != nil {
		t.Fatal(err)
	}
	var upper string
	out := sh(t, `cat /etc/hostname; grep -c localhost /etc/hosts; echo "1.2.3.4 x" >> /etc/hosts && echo hosts-writable; grep -c 1.2.3.4 /etc/hosts; touch /etc/hosts.new`, func(c *Config) {
		c.Hostname = "web1"
		c.Files = files
		upper = c.UpperDir
	})
	if out != "web1\n2\nhosts-writable\n1\n" {
		t.Fatalf("got %q", out)
	}
	// The files are not in the container layer (a commit never takes
	// them); the rest of /etc is.
	entries, _ := os.ReadDir(filepath.Join(upper, "etc"))
	if len(entries) != 1 || entries[0].Name() != "hosts.new" {
		t.Fatalf("container layer's /etc holds %v", entries)
	}
}

// TestFileOutsideEtc: a file the runtime makes elsewhere than Docker's
// three (on a tmpfs of its own, not in the init layer) is there and
// writable, and its content stays out of the container layer.
func TestFileOutsideEtc(t *testing.T) {
	files, err := EtcFiles("web1", NetworkNone, Names{})
	if err != nil {
		t.Fatal(err)
	}
	var upper string
	out := sh(t, `cat /etc/hostname /opt/x/app.conf; echo w=2 >> /opt/x/app.conf && cat /opt/x/app.conf`, func(c *Config) {
		c.Files = append(files, File{Target: "/opt/x/app.conf", Data: "v=1\n"})
		upper = c.UpperDir
	})
	if out != "web1\nv=1\nv=1\nw=2\n" {
		t.Fatalf("got %q", out)
	}
	if b, err := os.ReadFile(filepath.Join(upper, "opt/x/app.conf")); err == nil && len(b) > 0 {
		t.Fatalf("the file's content is in the container layer: %q", b)
	}
}

// TestMountOverEtcFileWins: a user's bind mount on /etc/hosts replaces
// the runtime's, as in Docker.
func TestMountOverEtcFileWins(t *testing.T) {
	files, _ := EtcFiles("web1", NetworkNone, Names{})
	src := filepath.Join(t.TempDir(), "hosts")
	os.WriteFile(src, []byte("10.0.0.1 mine\n"), 0o644)
	out := sh(t, `cat /etc/hosts`, func(c *Config) {
		c.Files = files
		c.Mounts = []Mount{{Type: "bind", Source: src, Target: "/etc/hosts"}}
	})
	if out != "10.0.0.1 mine\n" {
		t.Fatalf("got %q", out)
	}
}

// TestSeccompBlocksNamespaces: a container cannot create (or join) user
// and other namespaces, the way back to capabilities Docker's seccomp
// profile closes; ordinary forking and threads still work.
func TestSeccompBlocksNamespaces(t *testing.T) {
	out := sh(t, `
		unshare -U true 2>/dev/null && echo USERNS-CREATED
		unshare -n true 2>/dev/null && echo NETNS-CREATED
		nsenter -t 1 -u true 2>/dev/null && echo SETNS-WORKED
		grep Seccomp: /proc/self/status
		(echo sub) && sleep 0 & wait; echo forks-ok`)
	if out != "Seccomp:\t2\nsub\nforks-ok\n" {
		t.Fatalf("got %q", out)
	}
}

// TestOverlayPathsWithSeparators: ',' and ':' in layer or container-layer
// paths cannot break (or inject into) the overlay's mount options.
func TestOverlayPathsWithSeparators(t *testing.T) {
	cfg, out := testConfig(t, "cat", "/odd")
	odd := filepath.Join(t.TempDir(), "a,upperdir=x:y")
	for _, d := range []string{"layer", "upper", "work"} {
		if err := os.MkdirAll(filepath.Join(odd, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(odd, "layer", "odd"), []byte("odd layer\n"), 0o644)
	cfg.LowerDirs = append(cfg.LowerDirs, filepath.Join(odd, "layer"))
	cfg.UpperDir, cfg.WorkDir = filepath.Join(odd, "upper"), filepath.Join(odd, "work")
	if st := runContainer(t, cfg); st.Code != 0 || out.String() != "odd layer\n" {
		t.Fatalf("exit %+v, output %q", st, out)
	}
}

// TestInitLayerKeepsContainerLayerClean: for an image without /proc, /dev,
// /sys or /etc (FROM scratch style), the mount points the sandbox needs do
// not end up in the container layer.
func TestInitLayerKeepsContainerLayerClean(t *testing.T) {
	cfg, out := testConfig(t, "/busybox", "sh", "-c", "ls -d /proc /dev /sys /etc/hosts && cat /etc/hostname")
	scratch := t.TempDir()
	bb, _ := os.ReadFile("/bin/busybox")
	os.WriteFile(filepath.Join(scratch, "busybox"), bb, 0o755)
	cfg.LowerDirs = []string{scratch}
	cfg.Hostname = "clean"
	files, err := EtcFiles("clean", NetworkNone, Names{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Files = files
	cfg.Env = []string{"PATH=/"}
	if st := runContainer(t, cfg); st.Code != 0 {
		t.Fatalf("exit %+v: %s", st, out)
	}
	if out.String() != "/dev\n/etc/hosts\n/proc\n/sys\nclean\n" {
		t.Fatalf("output %q", out)
	}
	if entries, _ := os.ReadDir(cfg.UpperDir); len(entries) != 0 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("container layer holds %v", names)
	}
}
