package sandbox

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/reconciler/reconciler/internal/limitnames"
	"github.com/reconciler/reconciler/runtime/sandbox/internal/nsinit"
)

// rlimits maps Docker's ulimit names (limitnames.Ulimits) to resources
// (go-units' table).
var rlimits = map[string]int{
	"core": unix.RLIMIT_CORE, "cpu": unix.RLIMIT_CPU, "data": unix.RLIMIT_DATA,
	"fsize": unix.RLIMIT_FSIZE, "locks": unix.RLIMIT_LOCKS, "memlock": unix.RLIMIT_MEMLOCK,
	"msgqueue": unix.RLIMIT_MSGQUEUE, "nice": unix.RLIMIT_NICE, "nofile": unix.RLIMIT_NOFILE,
	"nproc": unix.RLIMIT_NPROC, "rss": unix.RLIMIT_RSS, "rtprio": unix.RLIMIT_RTPRIO,
	"rttime": unix.RLIMIT_RTTIME, "sigpending": unix.RLIMIT_SIGPENDING, "stack": unix.RLIMIT_STACK,
}

// CheckUlimit says what is wrong with a ulimit, in docker's words.
func CheckUlimit(u Ulimit) error {
	_, err := rlimitOf(u)
	return err
}

func rlimitOf(u Ulimit) (nsinit.Rlimit, error) {
	res, ok := rlimits[u.Name]
	if !ok {
		names := make([]string, 0, len(rlimits))
		for n := range rlimits {
			names = append(names, n)
		}
		sort.Strings(names)
		return nsinit.Rlimit{}, fmt.Errorf("--ulimit %s: invalid ulimit type %q: use one of %s", u.Name, u.Name, strings.Join(names, ", "))
	}
	v := func(n int64) (uint64, error) {
		switch {
		case n == -1:
			return math.MaxUint64, nil // RLIM_INFINITY
		case n < 0:
			return 0, fmt.Errorf("--ulimit %s=%d:%d: a limit cannot be negative (-1 is unlimited)", u.Name, u.Soft, u.Hard)
		}
		return uint64(n), nil
	}
	soft, err := v(u.Soft)
	if err != nil {
		return nsinit.Rlimit{}, err
	}
	hard, err := v(u.Hard)
	if err != nil {
		return nsinit.Rlimit{}, err
	}
	if soft > hard {
		return nsinit.Rlimit{}, fmt.Errorf("--ulimit %s=%d:%d: the soft limit must be less than or equal to the hard limit", u.Name, u.Soft, u.Hard)
	}
	return nsinit.Rlimit{Name: u.Name, Resource: res, Soft: soft, Hard: hard}, nil
}

// NormalizeCap is Docker's spelling of a capability name ("net_raw",
// "CAP_NET_RAW" -> "CAP_NET_RAW"; "all" -> "ALL"), or an error naming it.
func NormalizeCap(name string) (string, error) {
	n, _, err := capability(name)
	if err != nil || n == limitnames.All {
		return n, err
	}
	return "CAP_" + n, nil
}

// capability is limitnames.Capability with docker's error.
func capability(name string) (string, int, error) {
	n, i, ok := limitnames.Capability(name)
	if !ok {
		return "", 0, fmt.Errorf("--cap-drop: unknown capability: %q", name)
	}
	return n, i, nil
}

// capMask is the bit mask of the capabilities named (see NormalizeCap).
func capMask(names []string) (uint64, error) {
	var m uint64
	for _, name := range names {
		_, i, err := capability(name)
		switch {
		case err != nil:
			return 0, err
		case i < 0: // ALL
			return math.MaxUint64, nil
		}
		m |= 1 << i
	}
	return m, nil
}

// setLimitsSpec puts ulimits and dropped capabilities into spec.
func setLimitsSpec(spec *nsinit.Spec, ulimits []Ulimit, capDrop []string) error {
	for _, u := range ulimits {
		r, err := rlimitOf(u)
		if err != nil {
			return err
		}
		spec.Rlimits = append(spec.Rlimits, r)
	}
	var err error
	spec.CapDrop, err = capMask(capDrop)
	return err
}
