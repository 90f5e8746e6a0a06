package localbackend

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/dockerapi/clitest"
)

// TestDockerCLITTY drives `docker run -it` and `docker exec -it` under a
// pseudo-terminal (script(1)) against this backend: the container's
// program runs on a terminal of its own (tty names /dev/pts/N inside), the
// CLI's terminal size reaches it (create's ConsoleSize and the resize
// call), typed input reaches it, and output comes raw (CRLF, no stdcopy
// frames) from attach and logs alike.
func TestDockerCLITTY(t *testing.T) {
	cli := clitest.Find()
	if cli == "" {
		t.Skip("needs the docker CLI (/usr/local/bin/docker or docker.io)")
	}
	scriptBin, err := exec.LookPath("script")
	if err != nil {
		t.Skip("needs script(1) (util-linux) for a pseudo-terminal")
	}
	host := serveBusybox(t)
	// underPTY runs the docker CLI on script's terminal, sized 40x100,
	// typing input into it.
	underPTY := func(input, args string) (string, int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		line := "stty rows 40 cols 100; exec " + cli + " -H " + host + " " + args
		cmd := exec.CommandContext(ctx, scriptBin, "-qec", line, "/dev/null")
		cmd.Env = []string{"HOME=" + t.TempDir(), "TERM=dumb", "PATH=/usr/bin:/bin"}
		// script(1) types its EOF character (^D) into the terminal when
		// its own stdin ends; typed before the CLI makes the terminal
		// raw, the kernel's canonical-mode EOF mark then reads as a NUL
		// byte, which the CLI sends as input (the terminal echoes ^@).
		// A user at a terminal types no such thing: keep script's stdin
		// open until the CLI is done.
		inR, inW, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer inR.Close()
		defer inW.Close()
		if _, err := inW.WriteString(input); err != nil {
			t.Fatal(err)
		}
		cmd.Stdin = inR
		out, err := cmd.Output()
		if ee, ok := err.(*exec.ExitError); ok {
			return string(out), ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), 0
	}
	docker := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(cli, append([]string{"-H", host}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("docker %v: %v\n%s", args, err, out)
		}
		return string(out)
	}

	out, code := underPTY("", "run -it --name ttyrun busybox:local sh -c 'tty; stty size; echo tty-out; exit 3'")
	if code != 3 || !strings.Contains(out, "/dev/pts/0\r\n40 100\r\ntty-out\r\n") || strings.Contains(out, "\x01\x00\x00\x00") {
		t.Errorf("docker run -it: code %d, output %q; want code 3 and /dev/pts/0, 40 100, tty-out raw", code, out)
	}
	if got := docker("logs", "ttyrun"); got != "/dev/pts/0\r\n40 100\r\ntty-out\r\n" {
		t.Errorf("docker logs of a -t container = %q", got)
	}
	if got := docker("inspect", "-f", "{{.Config.Tty}} {{.Config.OpenStdin}} {{.HostConfig.ConsoleSize}}", "ttyrun"); got != "true true [40 100]\n" {
		t.Errorf("inspect: Tty OpenStdin ConsoleSize = %q", got)
	}

	// An interactive shell reads what is typed on the terminal.
	out, code = underPTY("echo typed-$((40+2))\rexit 4\r", "run -it --rm busybox:local sh")
	if code != 4 || !strings.Contains(out, "typed-42\r\n") {
		t.Errorf("docker run -it sh with input: code %d, output %q; want code 4 and typed-42", code, out)
	}

	docker("run", "-d", "--name", "ttyexec", "busybox:local", "sleep", "60")
	out, code = underPTY("", "exec -it ttyexec sh -c 'tty; stty size; echo in-exec; exit 6'")
	if code != 6 || !strings.Contains(out, "/dev/pts/0\r\n40 100\r\nin-exec\r\n") {
		t.Errorf("docker exec -it: code %d, output %q; want code 6 and /dev/pts/0, 40 100, in-exec raw", code, out)
	}
	// docker attach to a running shell on a terminal: typed input in,
	// raw output out, the shell's exit code.
	docker("run", "-dit", "--name", "ttyattach", "busybox:local", "sh")
	out, code = underPTY("echo attached-$((1+1))\rexit 7\r", "attach ttyattach")
	if code != 7 || !strings.Contains(out, "attached-2\r\n") {
		t.Errorf("docker attach: code %d, output %q; want code 7 and attached-2", code, out)
	}
	docker("rm", "-f", "ttyexec", "ttyrun", "ttyattach")
}
