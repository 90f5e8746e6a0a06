package e2e

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/mountinfo"
	"github.com/reconciler/reconciler/internal/testutil"
)

// daemonOpts say how to start `reconciler daemon` besides its unix socket.
type daemonOpts struct {
	tcp    bool   // also listen on a free loopback TCP port
	tlsDir string // with tcp: --tlsverify with the certificates of `certs init tlsDir`
}

// daemon is one `reconciler daemon` process on a state root; start and
// stop may be called again to restart it on the same root.
type daemon struct {
	t        *testing.T
	root     string
	sock     string // API unix socket path (-H unix://sock)
	tcpAddr  string // HOST:PORT when opts.tcp
	metrics  string // bound --metrics-addr, from the daemon's log
	opts     daemonOpts
	logDir   string
	starts   int
	cmd      *exec.Cmd
	done     chan struct{}
	logPaths []string
	// clientHost and clientEnv, when set, are how cli reaches the daemon
	// (TCP, TLS) instead of its unix socket.
	clientHost string
	clientEnv  []string
}

// newRoot makes a state root for one test. When the test ends (after its
// daemons are stopped) a fresh daemon force-removes every container left on
// it, then whatever is still mounted under it is unmounted and any process
// still running from it is killed.
func newRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	t.Cleanup(func() { cleanRoot(t, root) })
	return root
}

// startDaemon starts a daemon on root and stops it when the test ends.
func startDaemon(t *testing.T, root string, opts daemonOpts) *daemon {
	t.Helper()
	d := &daemon{t: t, root: root, sock: filepath.Join(root, "d.sock"), opts: opts, logDir: t.TempDir()}
	if opts.tcp {
		d.tcpAddr = freePort(t)
	}
	t.Cleanup(func() {
		d.stop()
		if t.Failed() {
			d.dumpLogs()
		}
	})
	d.start()
	return d
}

// args is the daemon's command line.
func (d *daemon) args() []string {
	a := []string{"--root", d.root, "daemon", "-H", "unix://" + d.sock, "--metrics-addr", "127.0.0.1:0"}
	if d.opts.tcp {
		a = append(a, "-H", "tcp://"+d.tcpAddr)
	}
	if d.opts.tlsDir != "" {
		a = append(a, "--tlsverify",
			"--tlscacert", filepath.Join(d.opts.tlsDir, "ca.pem"),
			"--tlscert", filepath.Join(d.opts.tlsDir, "server-cert.pem"),
			"--tlskey", filepath.Join(d.opts.tlsDir, "server-key.pem"))
	}
	return a
}

// start runs the daemon and waits until it serves API and metrics.
func (d *daemon) start() {
	d.t.Helper()
	if d.cmd != nil {
		d.t.Fatal("daemon already running")
	}
	d.starts++
	logPath := filepath.Join(d.logDir, fmt.Sprintf("daemon-%d.log", d.starts))
	d.logPaths = append(d.logPaths, logPath)
	cmd, done, err := spawn(logPath, reconcilerBin, d.args()...)
	if err != nil {
		d.t.Fatal(err)
	}
	d.cmd, d.done = cmd, done
	metricsRe := regexp.MustCompile(`msg="metrics listening" addr=http://([^/\s]+)/metrics`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		logText := readFile(logPath)
		if m := metricsRe.FindStringSubmatch(logText); m != nil {
			d.metrics = m[1]
			break
		}
		select {
		case <-done:
			d.cmd = nil
			d.t.Fatalf("reconciler %s exited at start: %v\n%s", strings.Join(d.args(), " "), cmd.ProcessState, logText)
		default:
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("reconciler daemon did not report listening within 30s:\n%s", logText)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// spawn starts bin with its stdout and stderr in logPath (never the test's
// own, or go test waits for it); done closes when it has exited.
func spawn(logPath, bin string, args ...string) (*exec.Cmd, chan struct{}, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start %s: %w", bin, err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	return cmd, done, nil
}

// stop sends SIGTERM, then SIGKILL after 15 seconds; a no-op when stopped.
func (d *daemon) stop() {
	if d.cmd == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.done:
	case <-time.After(15 * time.Second):
		d.t.Errorf("reconciler daemon (pid %d) ignored SIGTERM for 15s; killing it", d.cmd.Process.Pid)
		d.cmd.Process.Kill()
		<-d.done
	}
	d.cmd = nil
}

// kill9 kills the daemon with SIGKILL, as a crash or the OOM killer would.
func (d *daemon) kill9() {
	d.t.Helper()
	if d.cmd == nil {
		d.t.Fatal("daemon not running")
	}
	d.cmd.Process.Kill()
	<-d.done
	d.cmd = nil
}

// pid is the running daemon's process ID.
func (d *daemon) pid() int { return d.cmd.Process.Pid }

// log is the output of the current (or last) daemon process.
func (d *daemon) log() string { return readFile(d.logPaths[len(d.logPaths)-1]) }

func (d *daemon) dumpLogs() {
	for _, p := range d.logPaths {
		text := readFile(p)
		lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
		if len(lines) > 60 {
			lines = lines[len(lines)-60:]
		}
		d.t.Logf("--- %s (last %d lines)\n%s", p, len(lines), strings.Join(lines, "\n"))
	}
}

// cli is the docker CLI talking to this daemon for t: over its unix
// socket, or as clientHost and clientEnv say.
func (d *daemon) cli(t *testing.T) *cli {
	if d.clientHost != "" {
		return newCLI(t, d.clientHost, d.clientEnv...)
	}
	return newCLI(t, "unix://"+d.sock)
}

// cleanRoot leaves nothing of a test's state root running or mounted.
func cleanRoot(t *testing.T, root string) {
	logPath := filepath.Join(os.TempDir(), fmt.Sprintf("reconciler-e2e-clean-%d.log", time.Now().UnixNano()))
	defer os.Remove(logPath)
	sock := filepath.Join(root, "clean.sock")
	cmd, done, err := spawn(logPath, reconcilerBin, "--root", root, "daemon", "-H", "unix://"+sock, "--metrics-addr", "")
	if err == nil {
		c := &cli{t: t, host: "unix://" + sock, config: filepath.Join(root, "clean-docker-config")}
		ok := testutil.WaitFor(10*time.Second, func() bool { return c.try("version").Code == 0 })
		if ok {
			if ids := strings.Fields(c.try("ps", "-aq").Out); len(ids) > 0 {
				if r := c.try(append([]string{"rm", "-f"}, ids...)...); r.Code != 0 {
					t.Logf("cleanup: docker rm -f %v: %s", ids, r.Err)
				}
			}
		} else {
			t.Logf("cleanup: daemon on %s did not come up: %s", root, readFile(logPath))
		}
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	for _, pid := range processesUnder(root) {
		// A shim's container outlives its shim: kill the container first.
		for _, kid := range childrenOf(pid) {
			syscall.Kill(kid, syscall.SIGKILL)
		}
		t.Logf("cleanup: killing leftover process %d (%s)", pid, readFile(fmt.Sprintf("/proc/%d/cmdline", pid)))
		syscall.Kill(pid, syscall.SIGKILL)
	}
	unmountUnder(t, root)
}

// processesUnder lists processes that name a path under root in their
// command line (the daemon's --root) or hold a file under it open (shims
// hold their container's log).
func processesUnder(root string) []int { return procsMatching(root, false) }

// shimsUnder lists the shim processes of containers under root: those
// holding a file under it open (their container's log). A spare shim,
// which has no container yet, only names root's mount point in its
// command line and holds what it staged there (the mount point).
func shimsUnder(root string) []int { return procsMatching(root, true) }

func procsMatching(root string, shimsOnly bool) []int {
	under := func(p string) bool { return p == root || strings.HasPrefix(p, root+"/") }
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		dir := filepath.Join("/proc", e.Name())
		b, _ := os.ReadFile(filepath.Join(dir, "cmdline"))
		args := strings.Split(string(b), "\x00")
		if shimsOnly && filepath.Base(args[0]) != "reconciler-shim" {
			continue
		}
		match := false
		for _, arg := range args {
			match = match || under(arg)
		}
		match = match && !shimsOnly
		fds, _ := os.ReadDir(filepath.Join(dir, "fd"))
		for _, fd := range fds {
			link, err := os.Readlink(filepath.Join(dir, "fd", fd.Name()))
			staged := strings.HasSuffix(link, "/.mnt") || strings.Contains(link, "/.mnt/")
			if err == nil && under(link) && !(shimsOnly && staged) {
				match = true
			}
		}
		if match {
			pids = append(pids, pid)
		}
	}
	return pids
}

// childrenOf lists the processes whose parent is pid.
func childrenOf(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var kids []int
	for _, e := range entries {
		status := readFile(filepath.Join("/proc", e.Name(), "status"))
		for _, l := range strings.Split(status, "\n") {
			if f := strings.Fields(l); len(f) == 2 && f[0] == "PPid:" && f[1] == strconv.Itoa(pid) {
				if kid, err := strconv.Atoi(e.Name()); err == nil {
					kids = append(kids, kid)
				}
			}
		}
	}
	return kids
}

// unmountUnder lazily unmounts every mount point under root, deepest first.
func unmountUnder(t *testing.T, root string) {
	points, _ := mountinfo.Under(root)
	for _, p := range points {
		if err := unix.Unmount(p, unix.MNT_DETACH); err == nil {
			t.Logf("cleanup: unmounted %s, left mounted after the test", p)
		}
	}
}

// freePort is a loopback address with a port free right now.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func readFile(p string) string {
	b, _ := os.ReadFile(p)
	return string(b)
}
