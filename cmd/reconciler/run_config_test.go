package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/mount"
	"github.com/spf13/pflag"
)

// parseCreate reads a docker run command line into the create request.
func parseCreate(t *testing.T, args ...string) (*container.Config, *container.HostConfig, error) {
	t.Helper()
	var o createOptions
	f := pflag.NewFlagSet("run", pflag.ContinueOnError)
	o.addFlags(f)
	if err := f.Parse(args); err != nil {
		t.Fatal(err)
	}
	return o.config(f, f.Arg(0), f.Args()[1:])
}

func TestCreateOptionsConfig(t *testing.T) {
	envFile := filepath.Join(t.TempDir(), "env")
	os.WriteFile(envFile, []byte("# comment\n\nA=from-file\nB=2\n  C=3\n"), 0o644)
	t.Setenv("FROM_SHELL", "shell")
	cfg, hc, err := parseCreate(t, "--name", "web", "--env-file", envFile, "-e", "A=flag", "-e", "FROM_SHELL", "-e", "UNSET_VAR_X",
		"-v", "data:/data", "-v", "/srv:/srv:ro", "--mount", "type=tmpfs,dst=/cache,tmpfs-size=1m", "--tmpfs", "/run:size=64m",
		"-w", "/app", "-u", "1000:1000", "-h", "box", "--network", "host", "--restart", "on-failure:3",
		"-m", "64m", "--cpus", "0.5", "--pids-limit", "100", "--stop-signal", "SIGUSR1", "--stop-timeout", "5",
		"-l", "app=shop", "-l", "tier", "--entrypoint", "/bin/sh",
		"--read-only", "--shm-size", "1m", "--ulimit", "nofile=100:200", "--cap-drop", "NET_RAW",
		"--init", "--log-opt", "max-size=1k", "--log-opt", "max-file=2", "--oom-score-adj", "500", "bb:1", "-c", "echo hi")
	if err != nil {
		t.Fatal(err)
	}
	five, pids := 5, int64(100)
	wantCfg := &container.Config{
		Image: "bb:1", Cmd: []string{"-c", "echo hi"}, Entrypoint: []string{"/bin/sh"},
		Env:    []string{"A=from-file", "B=2", "C=3", "A=flag", "FROM_SHELL=shell"},
		Labels: map[string]string{"app": "shop", "tier": ""}, WorkingDir: "/app", User: "1000:1000", Hostname: "box",
		StopSignal: "SIGUSR1", StopTimeout: &five, AttachStdout: true, AttachStderr: true,
	}
	if d := cmp.Diff(wantCfg, cfg); d != "" {
		t.Errorf("config (-want +got):\n%s", d)
	}
	wantHC := &container.HostConfig{
		Binds: []string{"data:/data", "/srv:/srv:ro"}, NetworkMode: "host",
		RestartPolicy:  container.RestartPolicy{Name: "on-failure", MaximumRetryCount: 3},
		Mounts:         []mount.Mount{{Type: mount.TypeTmpfs, Target: "/cache", TmpfsOptions: &mount.TmpfsOptions{SizeBytes: 1 << 20}}},
		Tmpfs:          map[string]string{"/run": "size=64m"},
		ReadonlyRootfs: true, ShmSize: 1 << 20, CapDrop: []string{"NET_RAW"},
	}
	wantHC.Ulimits = []*container.Ulimit{{Name: "nofile", Soft: 100, Hard: 200}}
	yes := true
	wantHC.Init, wantHC.OomScoreAdj = &yes, 500
	wantHC.LogConfig.Config = map[string]string{"max-size": "1k", "max-file": "2"}
	wantHC.Memory, wantHC.NanoCPUs, wantHC.PidsLimit = 64<<20, 5e8, &pids
	if d := cmp.Diff(wantHC, hc); d != "" {
		t.Errorf("host config (-want +got):\n%s", d)
	}

	// Defaults are what the docker CLI sends.
	cfg, hc, err = parseCreate(t, "bb:1")
	if err != nil || cfg.Cmd != nil || cfg.Entrypoint != nil || cfg.StopTimeout != nil || hc.NetworkMode != "default" ||
		hc.RestartPolicy.Name != "no" || hc.PidsLimit != nil || hc.Init != nil || hc.LogConfig.Config != nil {
		t.Errorf("defaults: %+v %+v %v", cfg, hc, err)
	}
	// --add-host and --dns* as docker sends them.
	_, hc, err = parseCreate(t, "--add-host", "a:1.2.3.4", "--dns", "1.1.1.1", "--dns-search", "x.example", "--dns-option", "ndots:2", "bb:1")
	if err != nil || !slices.Equal(hc.ExtraHosts, []string{"a:1.2.3.4"}) || len(hc.DNS) != 1 || hc.DNS[0].String() != "1.1.1.1" ||
		!slices.Equal(hc.DNSSearch, []string{"x.example"}) || !slices.Equal(hc.DNSOptions, []string{"ndots:2"}) {
		t.Errorf("names: %v %v %v %v %v", hc.ExtraHosts, hc.DNS, hc.DNSSearch, hc.DNSOptions, err)
	}
	// -t asks for a terminal; the size comes from this command's own.
	if cfg, hc, _ := parseCreate(t, "-t", "bb:1"); !cfg.Tty || hc.ConsoleSize != [2]uint{} {
		t.Errorf("-t: Tty %v ConsoleSize %v", cfg.Tty, hc.ConsoleSize)
	}
	// --entrypoint "" clears the image's entrypoint.
	if cfg, _, _ := parseCreate(t, "--entrypoint", "", "bb:1", "true"); cfg.Entrypoint == nil || len(cfg.Entrypoint) != 0 {
		t.Errorf("--entrypoint \"\": %#v", cfg.Entrypoint)
	}
}

func TestCreateOptionsErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--restart", "sometimes", "bb:1"}, `invalid restart policy "sometimes"`},
		{[]string{"--restart", "always:3", "bb:1"}, "only be used with 'on-failure'"},
		{[]string{"--restart", "on-failure:x", "bb:1"}, "retry count"},
		{[]string{"--rm", "--restart", "always", "bb:1"}, "--restart and --rm"},
		{[]string{"-m", "lots", "bb:1"}, `"-m, --memory"`},
		{[]string{"--cpus", "half", "bb:1"}, `"--cpus"`},
		{[]string{"--mount", "type=nfs,dst=/x", "bb:1"}, `type "nfs"`},
		{[]string{"--mount", "src=v", "bb:1"}, "target is required"},
		{[]string{"--mount", "type=bind,dst=/x", "bb:1"}, "source is required"},
		{[]string{"--mount", "dst=/x,color=red", "bb:1"}, `unknown field "color"`},
		{[]string{"-l", "=v", "bb:1"}, "invalid label"},
		{[]string{"-e", "=v", "bb:1"}, "name is empty"},
		{[]string{"--env-file", "/nonexistent/env", "bb:1"}, "env file"},
		{[]string{"--dns", "one.one", "bb:1"}, `invalid argument "one.one" for "--dns" flag`},
		{[]string{"--shm-size", "-1", "bb:1"}, `"--shm-size"`},
		{[]string{"--ulimit", "nofiles=1", "bb:1"}, `invalid argument "nofiles=1" for "--ulimit" flag: invalid ulimit type: nofiles`},
		{[]string{"--ulimit", "nofile=2:1", "bb:1"}, `"--ulimit"`},
	} {
		if _, _, err := parseCreate(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}
