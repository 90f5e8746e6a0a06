package main

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// openPTY opens a pseudo-terminal sized rows x cols; the test types into
// the master and the command under test gets the slave as its terminal.
func openPTY(t *testing.T, rows, cols uint16) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("needs /dev/ptmx: %v", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(fd, unix.TIOCSWINSZ, &unix.Winsize{Row: rows, Col: cols}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// onPTY runs a command line with a terminal as stdin and stdout, typing
// input once it started; it returns what the terminal showed.
func (c ctrCLI) onPTY(input string, args ...string) (string, int) {
	c.t.Helper()
	master, slave := openPTY(c.t, 40, 100)
	var mu sync.Mutex
	var shown bytes.Buffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			mu.Lock()
			shown.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	go func() {
		time.Sleep(200 * time.Millisecond)
		io.WriteString(master, input)
	}()
	cmd := newRootCmd()
	cmd.SetIn(slave)
	cmd.SetOut(slave)
	var errb bytes.Buffer
	cmd.SetErr(&errb)
	cmd.SetArgs(append([]string{"--root", c.root}, args...))
	err := cmd.Execute()
	code := 0
	if ee, ok := err.(*exitError); ok {
		code = ee.code
	} else if err != nil {
		c.t.Fatalf("reconciler %v: %v", args, err)
	}
	time.Sleep(100 * time.Millisecond) // let the reader take what is left
	mu.Lock()
	defer mu.Unlock()
	return shown.String(), code
}

func TestContainerTTY(t *testing.T) {
	cli := ctrCLI{t, containerRoot(t)}

	// -t alone needs no terminal here: the container has its own.
	if out, errs, code := cli.run("run", "-t", "--name", "t1", "bb:1", "sh", "-c", "tty >/dev/null && echo on-a-tty"); out != "on-a-tty\r\n" || code != 0 {
		t.Errorf("run -t: %q exit %d (stderr %q), want on-a-tty\\r\\n", out, code, errs)
	}
	if got := cli.ok("logs", "t1"); got != "on-a-tty\r\n" {
		t.Errorf("logs of a -t container: %q", got)
	}
	if _, errs, code := cli.stdin("x\n", "run", "-it", "--rm", "bb:1", "cat"); code != 1 || !strings.Contains(errs, "the input device is not a TTY") {
		t.Errorf("run -it with stdin not a terminal: exit %d %q, want docker's refusal", code, errs)
	}

	// On a terminal: typed keys reach the shell, its size is this one's.
	out, code := cli.onPTY("stty size; echo typed-$((40+2))\rexit 4\r", "run", "-it", "--rm", "bb:1", "sh")
	if code != 4 || !strings.Contains(out, "40 100\r\n") || !strings.Contains(out, "typed-42\r\n") {
		t.Errorf("run -it sh on a terminal: exit %d, shown %q; want exit 4, 40 100 and typed-42", code, out)
	}

	cli.ok("run", "-d", "--name", "web", "bb:1", "sleep", "300")
	if out, _, code := cli.run("exec", "-t", "web", "sh", "-c", "tty; exit 5"); out != "/dev/pts/0\r\n" || code != 5 {
		t.Errorf("exec -t: %q exit %d, want /dev/pts/0 and 5", out, code)
	}
	out, code = cli.onPTY("stty size; exit 6\r", "exec", "-it", "web", "sh")
	if code != 6 || !strings.Contains(out, "40 100\r\n") {
		t.Errorf("exec -it sh on a terminal: exit %d, shown %q; want exit 6 and 40 100", code, out)
	}
}
