package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"math/big"
	"os"
	"strconv"
	"strings"

	units "github.com/docker/go-units"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/spf13/pflag"
)

// createOptions are the flags docker run and docker create share, read
// into the create request the docker CLI would send.
type createOptions struct {
	name, workdir, user, hostname, network, restart string
	memory, cpus, stopSignal, entrypoint            string
	env, envFiles, volumes, mounts, tmpfs, labels   []string
	pidsLimit                                       int64
	stopTimeout                                     int
	autoRemove, interactive, tty                    bool
	names                                           nameOptions
	// --read-only, --shm-size, --ulimit, --cap-drop
	readOnly         bool
	shmSize          string
	ulimits, capDrop []string
	// --init, --log-opt, --oom-score-adj
	init        bool
	logOpts     []string
	oomScoreAdj int
}

func (o *createOptions) addFlags(f *pflag.FlagSet) {
	f.SetInterspersed(false) // flags after IMAGE belong to the command
	f.StringVar(&o.name, "name", "", "Assign a name to the container")
	f.StringArrayVarP(&o.env, "env", "e", nil, "Set environment variables (KEY=VALUE, or KEY to pass this shell's value)")
	f.StringArrayVar(&o.envFiles, "env-file", nil, "Read in a file of environment variables")
	f.StringArrayVarP(&o.volumes, "volume", "v", nil, "Bind mount a volume (NAME:DST or /HOST/PATH:DST, with :ro for read-only)")
	f.StringArrayVar(&o.mounts, "mount", nil, "Attach a filesystem mount to the container (type=bind|volume|tmpfs,source=...,target=...[,readonly])")
	f.StringArrayVar(&o.tmpfs, "tmpfs", nil, "Mount a tmpfs directory (PATH[:size=64m,ro])")
	f.BoolVar(&o.autoRemove, "rm", false, "Automatically remove the container and its anonymous volumes when it exits")
	f.StringVarP(&o.workdir, "workdir", "w", "", "Working directory inside the container")
	f.StringVarP(&o.user, "user", "u", "", "Username or UID (format: \"<name|uid>[:<group|gid>]\")")
	f.StringVarP(&o.hostname, "hostname", "h", "", "Container host name")
	f.StringVar(&o.network, "network", "", "Connect a container to a network (none or host)")
	f.StringVar(&o.restart, "restart", "no", "Restart policy to apply when a container exits (no, always, on-failure[:N], unless-stopped)")
	f.StringVarP(&o.memory, "memory", "m", "", "Memory limit (e.g. 64m, 1g)")
	f.StringVar(&o.cpus, "cpus", "", "Number of CPUs (e.g. 0.5)")
	f.Int64Var(&o.pidsLimit, "pids-limit", 0, "Tune container pids limit (0 or -1 for unlimited)")
	f.StringVar(&o.stopSignal, "stop-signal", "", "Signal to stop the container")
	f.IntVar(&o.stopTimeout, "stop-timeout", 0, "Timeout (in seconds) to stop a container")
	f.StringArrayVarP(&o.labels, "label", "l", nil, "Set meta data on a container (KEY=VALUE)")
	f.StringVar(&o.entrypoint, "entrypoint", "", "Overwrite the default ENTRYPOINT of the image (\"\" clears it)")
	f.BoolVarP(&o.interactive, "interactive", "i", false, "Keep STDIN open and feed it to the container")
	f.BoolVarP(&o.tty, "tty", "t", false, "Allocate a pseudo-TTY")
	o.names.addFlags(f)
	f.BoolVar(&o.readOnly, "read-only", false, "Mount the container's root filesystem as read only")
	f.StringVar(&o.shmSize, "shm-size", "", "Size of /dev/shm (e.g. 128m; default 64m)")
	f.StringArrayVar(&o.ulimits, "ulimit", nil, "Ulimit options (NAME=SOFT[:HARD], e.g. nofile=1024:2048)")
	f.StringArrayVar(&o.capDrop, "cap-drop", nil, "Drop Linux capabilities (NAME, CAP_NAME or ALL)")
	f.BoolVar(&o.init, "init", false, "Run an init inside the container that forwards signals and reaps processes")
	f.StringArrayVar(&o.logOpts, "log-opt", nil, "Log driver options (max-size=SIZE, max-file=N)")
	f.IntVar(&o.oomScoreAdj, "oom-score-adj", 0, "Tune host's OOM preferences (-1000 to 1000)")
	// -h is --hostname, as in docker: help is --help alone.
	f.Bool("help", false, "Print usage")
}

// config reads the flags into the create request's parts; errors are
// usage errors, phrased as docker phrases them.
func (o *createOptions) config(f *pflag.FlagSet, image string, cmd []string) (*container.Config, *container.HostConfig, error) {
	env, err := readEnv(o.envFiles, o.env)
	if err != nil {
		return nil, nil, err
	}
	labels, err := parseLabelFlags(o.labels)
	if err != nil {
		return nil, nil, err
	}
	cfg := &container.Config{
		Image: image, Env: env, Labels: labels, WorkingDir: o.workdir, User: o.user, Hostname: o.hostname,
		StopSignal: o.stopSignal, AttachStdout: true, AttachStderr: true,
		OpenStdin: o.interactive, StdinOnce: o.interactive, AttachStdin: o.interactive,
		Tty: o.tty,
	}
	if len(cmd) > 0 {
		cfg.Cmd = cmd
	}
	if f.Changed("entrypoint") {
		cfg.Entrypoint = []string{}
		if o.entrypoint != "" {
			cfg.Entrypoint = []string{o.entrypoint}
		}
	}
	if f.Changed("stop-timeout") {
		t := o.stopTimeout
		cfg.StopTimeout = &t
	}
	hc := &container.HostConfig{Binds: o.volumes, AutoRemove: o.autoRemove, NetworkMode: container.NetworkMode(o.network)}
	if hc.NetworkMode == "" {
		hc.NetworkMode = "default"
	}
	if err := o.names.apply(hc); err != nil {
		return nil, nil, err
	}
	if hc.RestartPolicy, err = parseRestart(o.restart); err != nil {
		return nil, nil, err
	}
	if o.autoRemove && hc.RestartPolicy.Name != container.RestartPolicyDisabled {
		return nil, nil, fmt.Errorf("conflicting options: cannot specify both --restart and --rm")
	}
	for _, m := range o.mounts {
		mt, err := parseMount(m)
		if err != nil {
			return nil, nil, err
		}
		hc.Mounts = append(hc.Mounts, mt)
	}
	for _, t := range o.tmpfs {
		if hc.Tmpfs == nil {
			hc.Tmpfs = map[string]string{}
		}
		dst, opts, _ := strings.Cut(t, ":")
		hc.Tmpfs[dst] = opts
	}
	if o.memory != "" {
		if hc.Memory, err = bytesFlag("-m, --memory", o.memory); err != nil {
			return nil, nil, err
		}
	}
	if o.cpus != "" {
		if hc.NanoCPUs, err = parseCPUs(o.cpus); err != nil {
			return nil, nil, err
		}
	}
	if f.Changed("pids-limit") {
		p := o.pidsLimit
		hc.PidsLimit = &p
	}
	if err := o.limits(hc); err != nil {
		return nil, nil, err
	}
	if f.Changed("init") {
		hc.Init = &o.init
	}
	hc.OomScoreAdj = o.oomScoreAdj
	for _, kv := range o.logOpts {
		k, v, _ := strings.Cut(kv, "=")
		if hc.LogConfig.Config == nil {
			hc.LogConfig.Config = map[string]string{}
		}
		hc.LogConfig.Config[k] = v
	}
	return cfg, hc, nil
}

// limits reads --read-only, --shm-size, --ulimit and --cap-drop, as the
// docker CLI does.
func (o *createOptions) limits(hc *container.HostConfig) error {
	hc.ReadonlyRootfs, hc.CapDrop = o.readOnly, o.capDrop
	if o.shmSize != "" {
		n, err := bytesFlag("--shm-size", o.shmSize)
		if err != nil {
			return err
		}
		hc.ShmSize = n
	}
	for _, u := range o.ulimits {
		l, err := units.ParseUlimit(u)
		if err != nil {
			return fmt.Errorf("invalid argument %q for \"--ulimit\" flag: %v", u, err)
		}
		hc.Ulimits = append(hc.Ulimits, l)
	}
	return nil
}

// bytesFlag reads a size flag (64m, 1g) in bytes, with docker's error.
func bytesFlag(flag, v string) (int64, error) {
	n, err := units.RAMInBytes(v)
	if err != nil {
		return 0, fmt.Errorf("invalid argument %q for \"%s\" flag: %v", v, flag, err)
	}
	return n, nil
}

// parseRestart reads --restart: no, always, unless-stopped or
// on-failure[:N].
func parseRestart(s string) (container.RestartPolicy, error) {
	name, count, hasCount := strings.Cut(s, ":")
	p := container.RestartPolicy{Name: container.RestartPolicyMode(name)}
	switch p.Name {
	case "":
		p.Name = container.RestartPolicyDisabled
	case container.RestartPolicyDisabled, container.RestartPolicyAlways, container.RestartPolicyUnlessStopped:
		if hasCount {
			return p, fmt.Errorf("invalid restart policy %q: maximum retry count can only be used with 'on-failure'", s)
		}
	case container.RestartPolicyOnFailure:
		if hasCount {
			n, err := strconv.Atoi(count)
			if err != nil || n < 0 {
				return p, fmt.Errorf("invalid restart policy %q: the retry count must be a whole number", s)
			}
			p.MaximumRetryCount = n
		}
	default:
		return p, fmt.Errorf("invalid restart policy %q: use no, always, on-failure[:N] or unless-stopped", s)
	}
	return p, nil
}

// parseCPUs reads --cpus (a decimal number of CPUs) as nano CPUs.
func parseCPUs(s string) (int64, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok || r.Sign() < 0 {
		return 0, fmt.Errorf("invalid argument %q for \"--cpus\" flag: want a number of CPUs such as 0.5", s)
	}
	n := new(big.Rat).Mul(r, big.NewRat(1e9, 1))
	if !n.IsInt() {
		return 0, fmt.Errorf("invalid argument %q for \"--cpus\" flag: too precise", s)
	}
	return n.Num().Int64(), nil
}

// parseMount reads one --mount value: comma-separated key=value fields,
// as docker's CSV syntax.
func parseMount(s string) (mount.Mount, error) {
	fields, err := csv.NewReader(strings.NewReader(s)).Read()
	if err != nil {
		return mount.Mount{}, fmt.Errorf("invalid --mount %q: %v", s, err)
	}
	m := mount.Mount{Type: mount.TypeVolume}
	bad := func(format string, a ...any) (mount.Mount, error) {
		return mount.Mount{}, fmt.Errorf("invalid --mount %q: "+format, append([]any{s}, a...)...)
	}
	for _, field := range fields {
		k, v, hasV := strings.Cut(field, "=")
		switch strings.ToLower(k) {
		case "type":
			m.Type = mount.Type(strings.ToLower(v))
		case "source", "src":
			m.Source = v
		case "target", "destination", "dst":
			m.Target = v
		case "readonly", "ro":
			m.ReadOnly = !hasV || v == "1" || strings.EqualFold(v, "true")
			if hasV && !m.ReadOnly && v != "0" && !strings.EqualFold(v, "false") {
				return bad("readonly=%q: want true or false", v)
			}
		case "volume-subpath":
			m.VolumeOptions = &mount.VolumeOptions{Subpath: v}
		case "tmpfs-size":
			n, err := units.RAMInBytes(v)
			if err != nil {
				return bad("tmpfs-size=%q: %v", v, err)
			}
			m.TmpfsOptions = &mount.TmpfsOptions{SizeBytes: n}
		default:
			return bad("unknown field %q (supported: type, source, target, readonly, volume-subpath, tmpfs-size)", k)
		}
	}
	switch m.Type {
	case mount.TypeBind, mount.TypeVolume, mount.TypeTmpfs:
	default:
		return bad("type %q: use bind, volume or tmpfs", m.Type)
	}
	if m.Target == "" {
		return bad("target is required")
	}
	if m.Type == mount.TypeBind && m.Source == "" {
		return bad("source is required for a bind mount")
	}
	return m, nil
}

// readEnv is docker's environment: the --env-file files first, then the
// -e flags. A bare KEY takes this process's value, or is left out when
// unset.
func readEnv(files, flags []string) ([]string, error) {
	var env []string
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return nil, fmt.Errorf("env file: %w", err)
		}
		sc := bufio.NewScanner(f)
		for line := 1; sc.Scan(); line++ {
			l := strings.TrimLeft(sc.Text(), " \t")
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			k, _, _ := strings.Cut(l, "=")
			if strings.ContainsAny(k, " \t") {
				f.Close()
				return nil, fmt.Errorf("env file %s: line %d: variable %q contains whitespace", name, line, k)
			}
			env = appendEnv(env, l)
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("env file %s: %w", name, err)
		}
	}
	for _, kv := range flags {
		if strings.HasPrefix(kv, "=") {
			return nil, fmt.Errorf("invalid environment variable %q: the name is empty", kv)
		}
		env = appendEnv(env, kv)
	}
	return env, nil
}

func appendEnv(env []string, kv string) []string {
	if strings.Contains(kv, "=") {
		return append(env, kv)
	}
	if v, ok := os.LookupEnv(kv); ok {
		return append(env, kv+"="+v)
	}
	return env
}
