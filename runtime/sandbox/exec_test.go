package sandbox

import (
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/reexec"
	"github.com/reconciler/reconciler/runtime/cgroups"
)

// startSleeper starts a long-running container and registers its cleanup.
func startSleeper(t *testing.T, edit func(*Config)) (*Process, Config) {
	t.Helper()
	cfg, _ := testConfig(t, "sleep", "300")
	cfg.Hostname = "execbox"
	if edit != nil {
		edit(&cfg)
	}
	p, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.Signal(syscall.SIGKILL)
		p.Wait()
		Cleanup(cfg)
	})
	return p, cfg
}

// pinnedSleeper is startSleeper with its init pinned (OpenProc) until the
// test ends.
func pinnedSleeper(t *testing.T) (*Process, *os.File) {
	t.Helper()
	p, _ := startSleeper(t, nil)
	proc, err := OpenProc(p.Pid())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { proc.Close() })
	return p, proc
}

// groupMembers reads what each directory of g holds: threads on cgroup v1
// (its tasks file), processes on v2 (cgroup.procs).
func groupMembers(g *cgroups.Group) (map[string][]string, error) {
	file := "tasks"
	if g.V2() {
		file = "cgroup.procs"
	}
	out := map[string][]string{}
	for _, d := range g.Dirs {
		b, err := os.ReadFile(filepath.Join(d, file))
		if err != nil {
			return nil, err
		}
		out[filepath.Join(d, file)] = strings.Fields(string(b))
	}
	return out, nil
}

func TestExecJoinsContainer(t *testing.T) {
	p, cfg := startSleeper(t, func(c *Config) {
		c.Mounts = []Mount{{Type: "tmpfs", Target: "/shared"}}
	})
	var out bytes.Buffer
	run := func(user, script string) string {
		out.Reset()
		e, err := execPid(p.Pid(), ExecConfig{Args: []string{"sh", "-c", script}, User: user, Cwd: "/shared/wd", Env: []string{"X=1"}, Stdout: &out, Stderr: &out})
		if err != nil {
			t.Fatal(err)
		}
		st, err := e.Wait()
		if err != nil || st.Code != 0 {
			t.Fatalf("exec %q: %+v %v: %s", script, st, err, out.String())
		}
		return out.String()
	}
	got := run("", `hostname; cat /proc/1/cmdline | tr '\0' ' '; echo; [ $$ -gt 1 ] && echo not-pid1
		echo $X $HOSTNAME; pwd; echo hi > /shared/f; ls /sys/class/net
		grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status; cat /proc/self/cgroup | grep -c `+cfg.ID)
	want := "execbox\nsleep 300 \nnot-pid1\n1 execbox\n/shared/wd\nlo\nCapEff:\t00000000a80425fb\nCapBnd:\t00000000a80425fb\nNoNewPrivs:\t1\n"
	if !strings.HasPrefix(got, want) || strings.HasSuffix(got, "\n0\n") {
		t.Fatalf("exec output:\n%s\nwant prefix:\n%s(and a cgroup line)", got, want)
	}
	if got := run("app", "id -u; cat /shared/f"); got != "1000\nhi\n" {
		t.Fatalf("exec as app: %q", got)
	}
	_, err := execPid(p.Pid(), ExecConfig{Args: []string{"/no/such"}})
	if err == nil || !strings.Contains(err.Error(), "no such file or directory in the image") {
		t.Fatalf("exec of a missing program: %v", err)
	}
}

func TestExecIntoStoppedContainerFails(t *testing.T) {
	p, _ := startSleeper(t, nil)
	pid := p.Pid()
	p.Signal(syscall.SIGKILL)
	p.Wait()
	if _, err := execPid(pid, ExecConfig{Args: []string{"true"}}); err == nil {
		t.Fatal("exec into an exited container succeeded")
	}
}

// TestExecIntoPinnedProcessThatExited: a container pinned with OpenProc
// and gone before the exec is refused through the pin, whatever process
// holds its PID by then.
func TestExecIntoPinnedProcessThatExited(t *testing.T) {
	p, proc := pinnedSleeper(t)
	p.Signal(syscall.SIGKILL)
	p.Wait()
	if _, err := Exec(proc, ExecConfig{Args: []string{"true"}}); err == nil {
		t.Fatal("exec through the pin of an exited container succeeded")
	}
}

// TestRuntimeBinaryUnreachable is CVE-2019-5736: a process in the container
// must not be able to write the runtime binary through /proc/PID/exe of a
// runtime process (the init before its exec, an exec helper) that shows up
// in its PID namespace.
func TestRuntimeBinaryUnreachable(t *testing.T) {
	p, proc := pinnedSleeper(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	var attack bytes.Buffer
	hold := func(helper int) error {
		// From the host: the helper runs from a sealed memfd, not from us.
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", helper))
		if err != nil {
			return err
		}
		if !strings.HasPrefix(exe, "/memfd:") {
			return fmt.Errorf("helper runs from %q, not a memfd", exe)
		}
		f, err := os.Open(fmt.Sprintf("/proc/%d/exe", helper))
		if err != nil {
			return err
		}
		defer f.Close()
		seals, err := unix.FcntlInt(f.Fd(), unix.F_GET_SEALS, 0)
		if err != nil || seals&unix.F_SEAL_WRITE == 0 || seals&unix.F_SEAL_SEAL == 0 {
			return fmt.Errorf("memfd seals %#x (%v), want write and seal sealed", seals, err)
		}
		if _, err := os.OpenFile(fmt.Sprintf("/proc/%d/exe", helper), os.O_WRONLY, 0); err == nil {
			return errors.New("host could open the helper's exe for writing")
		}
		// From inside the container: find the helper by its PID there
		// and try to write through its /proc/PID/exe.
		nspid, err := innerPid(helper)
		if err != nil {
			return err
		}
		e, err := execPid(p.Pid(), ExecConfig{Args: []string{"sh", "-c", fmt.Sprintf(`
			readlink /proc/%[1]d/exe 2>&1 || ls -l /proc/%[1]d/exe 2>&1
			{ printf x >> /proc/%[1]d/exe; } 2>/dev/null && echo WROTE-APPEND
			{ printf x 1<> /proc/%[1]d/exe; } 2>/dev/null && echo WROTE-RDWR
			true`, nspid)}, Stdout: &attack, Stderr: &attack})
		if err != nil {
			return err
		}
		e.Wait()
		return nil
	}
	e, err := execIn(proc, ExecConfig{Args: []string{"true"}}, hold)
	if err != nil {
		t.Fatal(err)
	}
	e.Wait()
	// Still privileged, the helper is not even inspectable from inside.
	if a := attack.String(); strings.Contains(a, "WROTE") || !(strings.HasPrefix(a, "/memfd:") || strings.Contains(a, "Permission denied")) {
		t.Fatalf("container process reached the runtime binary:\n%s", attack.String())
	}
	after, err := os.ReadFile(self)
	if err != nil || !bytes.Equal(before, after) {
		t.Fatal("runtime binary on disk changed")
	}
}

// innerPid is pid's number in its innermost PID namespace.
func innerPid(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) > 1 && f[0] == "NSpid:" {
			var n int
			_, err := fmt.Sscan(f[len(f)-1], &n)
			return n, err
		}
	}
	return 0, errors.New("no NSpid in status")
}

// evilRole is the argv[0] the kernel gives the interpreter of a script
// starting with "#!/proc/self/exe": in the CVE-2019-5736 attack, a
// container's binary is replaced by such a script, so the next exec makes
// the runtime's own binary run as a container process. TestMain registers
// it to just wait, so the attack can be tried against it.
const evilRole = "/proc/self/exe"

func evilMain() {
	time.Sleep(20 * time.Second)
	os.Exit(0)
}

func TestCVE20195736Reexec(t *testing.T) {
	needRoot(t)
	if !staticBinary(t) {
		t.Skip("the test binary is dynamically linked (-race?): the kernel cannot load it as an interpreter inside the container")
	}
	p, _ := startSleeper(t, nil)
	execWait := func(args ...string) string {
		var out bytes.Buffer
		e, err := execPid(p.Pid(), ExecConfig{Args: args, Stdout: &out, Stderr: &out})
		if err != nil {
			t.Fatal(err)
		}
		e.Wait()
		return out.String()
	}
	execWait("sh", "-c", `printf '#!/proc/self/exe\n' > /bin/evil && chmod +x /bin/evil`)
	evil, err := execPid(p.Pid(), ExecConfig{Args: []string{"/bin/evil"}})
	if err != nil {
		t.Fatal(err)
	}
	defer evil.Wait()
	defer evil.Signal(syscall.SIGKILL)
	out := execWait("sh", "-c", `
		for p in /proc/[0-9]*; do
			read -r c < $p/cmdline
			case "$c" in /proc/self/exe*) evil=$p;; esac
		done
		[ -n "$evil" ] || { echo no-evil-process; exit; }
		readlink $evil/exe
		{ printf x >> $evil/exe; } 2>/dev/null && echo WROTE-APPEND
		{ printf x 1<> $evil/exe; } 2>/dev/null && echo WROTE-RDWR
		true`)
	if !strings.HasPrefix(out, "/memfd:") || strings.Contains(out, "WROTE") {
		t.Fatalf("the runtime binary is reachable from the container:\n%s", out)
	}
}

// sealedRole prints the inode of the sealed copy this process uses.
const sealedRole = "sandbox-test-sealed"

func sealedMain() {
	f, err := sealed()
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	fmt.Println(inode(f))
	os.Exit(0)
}

func inode(f *os.File) uint64 {
	var st unix.Stat_t
	unix.Fstat(int(f.Fd()), &st)
	return st.Ino
}

// TestSealedBinaryPassedToChild checks that a re-executed child adopts the
// parent's sealed copy instead of making its own.
func TestSealedBinaryPassedToChild(t *testing.T) {
	needRoot(t)
	f, err := sealed()
	if err != nil {
		t.Fatal(err)
	}
	run := func(pass bool) string {
		cmd := reexec.Command(sealedRole)
		if pass {
			if err := PassSealedBinary(cmd); err != nil {
				t.Fatal(err)
			}
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	want := strconv.FormatUint(inode(f), 10)
	if got := run(true); got != want {
		t.Fatalf("child uses memfd inode %s, want the parent's %s", got, want)
	}
	if got := run(false); got == want {
		t.Fatal("child without PassSealedBinary claims the parent's memfd")
	}
	// adopt refuses what is not a sealed memfd.
	r, w, _ := os.Pipe()
	defer r.Close()
	defer w.Close()
	if _, err := adopt(int(r.Fd())); err == nil {
		t.Fatal("adopted a pipe")
	}
	mfd, _ := unix.MemfdCreate("unsealed", unix.MFD_CLOEXEC)
	defer unix.Close(mfd)
	if _, err := adopt(mfd); err == nil {
		t.Fatal("adopted an unsealed memfd")
	}
}

// staticBinary reports whether this binary has no ELF interpreter.
func staticBinary(t *testing.T) bool {
	f, err := elf.Open("/proc/self/exe")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return false
		}
	}
	return true
}

// TestExecKeepsTheRuntimeOutOfTheGroup: no thread of the runtime is ever
// in the container's cgroup, where the OOM killer of a container at its
// memory limit could pick the whole runtime.
func TestExecKeepsTheRuntimeOutOfTheGroup(t *testing.T) {
	p, proc := pinnedSleeper(t)
	hold := func(int) error {
		members, err := groupMembers(p.group)
		if err != nil {
			return err
		}
		for file, ids := range members {
			for _, id := range ids {
				if _, err := os.Stat("/proc/self/task/" + id); err == nil {
					return fmt.Errorf("%s holds %s, a thread of the runtime", file, id)
				}
			}
		}
		return nil
	}
	e, err := execIn(proc, ExecConfig{Args: []string{"true"}}, hold)
	if err != nil {
		t.Fatal(err)
	}
	e.Wait()
}
