package spec

import (
	"fmt"
	"strconv"
	"strings"
)

// signals are the Linux signal numbers by name, for stopSignal.
var signals = map[string]int{
	"SIGHUP": 1, "SIGINT": 2, "SIGQUIT": 3, "SIGILL": 4, "SIGTRAP": 5, "SIGABRT": 6,
	"SIGBUS": 7, "SIGFPE": 8, "SIGKILL": 9, "SIGUSR1": 10, "SIGSEGV": 11, "SIGUSR2": 12,
	"SIGPIPE": 13, "SIGALRM": 14, "SIGTERM": 15, "SIGSTKFLT": 16, "SIGCHLD": 17,
	"SIGCONT": 18, "SIGSTOP": 19, "SIGTSTP": 20, "SIGTTIN": 21, "SIGTTOU": 22,
	"SIGURG": 23, "SIGXCPU": 24, "SIGXFSZ": 25, "SIGVTALRM": 26, "SIGPROF": 27,
	"SIGWINCH": 28, "SIGIO": 29, "SIGPWR": 30, "SIGSYS": 31,
}

// ParseSignal reads a signal as "SIGTERM", "TERM", "sigterm" or "15" and
// returns its canonical name (as Docker's StopSignal takes it) and number.
func ParseSignal(s string) (name string, num int, err error) {
	if n, err := strconv.Atoi(s); err == nil {
		for name, num := range signals {
			if num == n {
				return name, num, nil
			}
		}
		return "", 0, fmt.Errorf("%d is not a signal number (1 to 31)", n)
	}
	name = strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if num, ok := signals[name]; ok {
		return name, num, nil
	}
	return "", 0, fmt.Errorf("%q is not a signal: want a name like SIGTERM or SIGQUIT", s)
}
