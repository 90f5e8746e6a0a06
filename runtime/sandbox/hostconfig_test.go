package sandbox

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/limitnames"
)

// TestReadonlyRootfs: the root refuses writes (EROFS) while /dev,
// /dev/shm, /proc, a tmpfs and a bind keep their modes and the runtime's
// /etc files turn read-only, as Docker's --read-only; a missing working
// directory is still made.
func TestReadonlyRootfs(t *testing.T) {
	files, err := EtcFiles("ro1", NetworkNone, Names{})
	if err != nil {
		t.Fatal(err)
	}
	vol := t.TempDir()
	out := sh(t, `
		touch /x 2>&1; touch /etc/x 2>/dev/null || echo etc-denied
		{ echo h >> /etc/hosts; } 2>/dev/null || echo hosts-denied
		cat /etc/hostname; pwd
		echo t > /tmp/t && echo tmpfs-ok; echo v > /vol/v && echo bind-ok
		echo s > /dev/shm/s && echo shm-ok; echo d > /dev/d && echo dev-ok
		cat /proc/1/comm; grep -c ' / overlay ro,' /proc/mounts`, func(c *Config) {
		c.ReadonlyRootfs = true
		c.Files = files
		c.Cwd = "/work/dir"
		c.Mounts = []Mount{{Type: "tmpfs", Target: "/tmp"}, {Type: "bind", Source: vol, Target: "/vol"}}
	})
	want := "touch: /x: Read-only file system\netc-denied\nhosts-denied\nro1\n/work/dir\ntmpfs-ok\nbind-ok\nshm-ok\ndev-ok\nsh\n1\n"
	if out != want {
		t.Fatalf("got:\n%s\nwant:\n%s", out, want)
	}
	if b, _ := os.ReadFile(filepath.Join(vol, "v")); string(b) != "v\n" {
		t.Fatalf("bind write not on the host: %q", b)
	}
}

// TestShmSize: /dev/shm has the size asked for, Docker's 64 MiB without.
func TestShmSize(t *testing.T) {
	script := `grep ' /dev/shm ' /proc/mounts | cut -d' ' -f4`
	if out := sh(t, script); !strings.Contains(out, "size=65536k") {
		t.Errorf("default /dev/shm: %q, want size=65536k", out)
	}
	if out := sh(t, script, func(c *Config) { c.ShmSize = 1 << 20 }); !strings.Contains(out, "size=1024k") {
		t.Errorf("ShmSize 1 MiB: /dev/shm %q, want size=1024k", out)
	}
}

// TestUlimitsInInitAndExec: the init sets the ulimits before the program
// runs, an exec gets the same, and one the runtime cannot grant (a hard
// limit above its own) fails the start naming it.
func TestUlimitsInInitAndExec(t *testing.T) {
	limits := []Ulimit{{Name: "nofile", Soft: 100, Hard: 200}, {Name: "core", Soft: 0, Hard: 0}}
	if out := sh(t, "ulimit -n; ulimit -Hn; ulimit -c", func(c *Config) { c.Ulimits = limits }); out != "100\n200\n0\n" {
		t.Fatalf("ulimits in the container: %q", out)
	}
	p, _ := startSleeper(t, func(c *Config) { c.Ulimits = limits })
	var out bytes.Buffer
	e, err := execPid(p.Pid(), ExecConfig{Args: []string{"sh", "-c", "ulimit -n; ulimit -Hn"}, Stdout: &out, Stderr: &out, Ulimits: limits})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := e.Wait(); err != nil || st.Code != 0 || out.String() != "100\n200\n" {
		t.Fatalf("exec: %+v %v %q", st, err, out.String())
	}

	var cur unix.Rlimit
	unix.Getrlimit(unix.RLIMIT_NOFILE, &cur)
	if cur.Max < 1<<40 {
		cfg, _ := testConfig(t, "true")
		cfg.Ulimits = []Ulimit{{Name: "nofile", Soft: int64(cur.Max) + 1, Hard: int64(cur.Max) + 1}}
		if _, err := Start(cfg); err == nil || !strings.Contains(err.Error(), "set ulimit nofile: the hard limit cannot be raised") {
			t.Errorf("start with nofile above the hard limit: %v", err)
		}
		Cleanup(cfg)
	}
	for _, bad := range []struct {
		u    Ulimit
		want string
	}{
		{Ulimit{Name: "nofiles", Soft: 1, Hard: 1}, `invalid ulimit type "nofiles"`},
		{Ulimit{Name: "nofile", Soft: 2, Hard: 1}, "soft limit must be less than or equal to the hard limit"},
		{Ulimit{Name: "nofile", Soft: -2, Hard: 1}, "cannot be negative"},
	} {
		if err := CheckUlimit(bad.u); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("CheckUlimit(%+v) = %v, want %q", bad.u, err, bad.want)
		}
	}
}

// TestCapDrop: dropped capabilities are gone from the init's and an
// exec's sets; ALL leaves none.
func TestCapDrop(t *testing.T) {
	// Docker's default set (a80425fb) less NET_RAW (bit 13) and CHOWN (bit 0).
	out := sh(t, `grep -E '^(CapEff|CapBnd)' /proc/self/status; chown 5 /tmp 2>/dev/null || echo chown-denied`,
		func(c *Config) { c.CapDrop = []string{"net_raw", "CAP_CHOWN"} })
	if want := "CapEff:\t00000000a80405fa\nCapBnd:\t00000000a80405fa\nchown-denied\n"; out != want {
		t.Fatalf("got %q, want %q", out, want)
	}
	if out := sh(t, `grep -E '^CapEff' /proc/self/status`, func(c *Config) { c.CapDrop = []string{"ALL"} }); out != "CapEff:\t0000000000000000\n" {
		t.Fatalf("cap-drop ALL: %q", out)
	}
	p, _ := startSleeper(t, func(c *Config) { c.CapDrop = []string{"NET_RAW"} })
	var buf bytes.Buffer
	e, err := execPid(p.Pid(), ExecConfig{Args: []string{"grep", "CapEff", "/proc/self/status"}, Stdout: &buf, Stderr: &buf, CapDrop: []string{"NET_RAW"}})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := e.Wait(); err != nil || st.Code != 0 || buf.String() != "CapEff:\t00000000a80405fb\n" {
		t.Fatalf("exec: %+v %v %q", st, err, buf.String())
	}
	if _, err := NormalizeCap("CAP_NOPE"); err == nil || !strings.Contains(err.Error(), `--cap-drop: unknown capability: "CAP_NOPE"`) {
		t.Errorf("unknown capability: %v", err)
	}
}

// TestCapabilityNames: the table is the kernel's numbering.
func TestCapabilityNames(t *testing.T) {
	for name, n := range map[string]int{"CHOWN": unix.CAP_CHOWN, "NET_RAW": unix.CAP_NET_RAW, "MKNOD": unix.CAP_MKNOD,
		"SETFCAP": unix.CAP_SETFCAP, "SYS_ADMIN": unix.CAP_SYS_ADMIN, "AUDIT_READ": unix.CAP_AUDIT_READ,
		"CHECKPOINT_RESTORE": unix.CAP_CHECKPOINT_RESTORE, "BPF": unix.CAP_BPF} {
		if limitnames.Capabilities[n] != name {
			t.Errorf("capability %d is %s, want %s", n, limitnames.Capabilities[n], name)
		}
	}
	if n := len(limitnames.Capabilities); n != unix.CAP_LAST_CAP+1 {
		t.Errorf("%d capability names, want %d (CAP_LAST_CAP+1)", n, unix.CAP_LAST_CAP+1)
	}
}

// TestUlimitNames: the names the manifest language accepts are the ones
// the runtime maps.
func TestUlimitNames(t *testing.T) {
	var names []string
	for n := range rlimits {
		names = append(names, n)
	}
	sort.Strings(names)
	if !slices.Equal(names, limitnames.Ulimits) {
		t.Errorf("rlimits has %v, limitnames.Ulimits %v", names, limitnames.Ulimits)
	}
}
