package reconcile

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/engine/fake"
	"github.com/reconciler/reconciler/internal/procopts"
)

func TestContainerConfigMapsLikeKubernetes(t *testing.T) {
	dir := t.TempDir()
	objs := manifest(t, dir, "c.yaml", `apiVersion: reconciler/v1
kind: Container
metadata: {name: db, labels: {tier: data}}
spec:
  image: docker.io/library/busybox:1.36
  command: [/bin/db]
  args: [--port, "5432"]
  env: [{name: A, value: "1"}, {name: B, value: "x=y"}]
  workingDir: /srv
  user: "1000:1000"
  hostname: db1
  volumes: [{name: data, mountPath: /var/lib/db, subPath: pg, readOnly: true}]
  binds: [{hostPath: /etc/ssl, mountPath: /etc/ssl, readOnly: true}]
  tmpfs: [{mountPath: /tmp, sizeLimit: 64Mi}]
  restartPolicy: OnFailure
  resources: {memory: 1Gi, cpus: 250m, pids: 64}
  stopSignal: SIGINT
  stopGracePeriod: 30s
  labels: {team: infra}
`)
	cfg, err := ContainerConfig(objs[0], "sha256:abc")
	if err != nil {
		t.Fatal(err)
	}
	want := engine.ContainerConfig{
		Name: "db", Image: "docker.io/library/busybox:1.36",
		Entrypoint: []string{"/bin/db"}, Cmd: []string{"--port", "5432"},
		Env:        []string{"A=1", "B=x=y"},
		WorkingDir: "/srv", User: "1000:1000", Hostname: "db1",
		Mounts: []engine.Mount{
			{Type: engine.MountVolume, Source: "data", Target: "/var/lib/db", ReadOnly: true, SubPath: "pg"},
			{Type: engine.MountBind, Source: "/etc/ssl", Target: "/etc/ssl", ReadOnly: true},
			{Type: engine.MountTmpfs, Target: "/tmp", Size: 64 << 20},
		},
		Restart:    engine.RestartPolicy{Name: "on-failure"},
		Resources:  engine.Resources{MemoryBytes: 1 << 30, NanoCPUs: 25e7, PidsLimit: 64},
		StopSignal: "SIGINT", StopGrace: 30 * time.Second, Network: "none",
	}
	labels := cfg.Labels
	cfg.Labels = nil
	if !reflect.DeepEqual(cfg, want) {
		t.Fatalf("config\n got %+v\nwant %+v", cfg, want)
	}
	for k, v := range map[string]string{"tier": "data", "team": "infra", engine.LabelImageID: "sha256:abc", engine.LabelKind: "Container", engine.LabelName: "db", LabelStopGrace: "30s"} {
		if labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, labels[k], v)
		}
	}
	for _, rp := range []struct{ in, out string }{{"Always", "always"}, {"Never", "no"}} {
		o := objs[0]
		c := *o.Container
		c.Spec.RestartPolicy = rp.in
		o.Container = &c
		cfg, _ := ContainerConfig(o, "")
		if cfg.Restart.Name != rp.out {
			t.Errorf("%s -> %s, want %s", rp.in, cfg.Restart.Name, rp.out)
		}
	}
}

// TestContainerConfigOptions: the hardening and name options become
// docker's --read-only, --cap-drop, --ulimit, --shm-size, --add-host and
// --dns*; a container without them gets none.
func TestContainerConfigOptions(t *testing.T) {
	objs := manifest(t, t.TempDir(), "c.yaml", `apiVersion: reconciler/v1
kind: Container
metadata: {name: hard}
spec:
  image: docker.io/library/busybox:1.36
  readOnlyRootFilesystem: true
  capDrop: [net_raw, CAP_CHOWN]
  ulimits: [{name: nofile, soft: 1024, hard: 2048}, {name: core, soft: 0, hard: -1}]
  shmSize: 128Mi
  hostAliases: [{ip: 1.2.3.4, hostnames: [a, b]}, {ip: "::1", hostnames: [six]}]
  dnsConfig:
    nameservers: [10.0.0.53]
    searches: [svc.example]
    options: [{name: ndots, value: "2"}, {name: rotate}]
---
`+containerDoc("plain", ""))
	cfg, err := ContainerConfig(objs[0], "")
	if err != nil {
		t.Fatal(err)
	}
	got := engine.ContainerConfig{ReadonlyRootfs: cfg.ReadonlyRootfs, CapDrop: cfg.CapDrop, Ulimits: cfg.Ulimits, ShmSize: cfg.ShmSize,
		ExtraHosts: cfg.ExtraHosts, DNS: cfg.DNS, DNSSearch: cfg.DNSSearch, DNSOptions: cfg.DNSOptions}
	want := engine.ContainerConfig{
		ReadonlyRootfs: true, CapDrop: []string{"NET_RAW", "CHOWN"},
		Ulimits: []engine.Ulimit{{Name: "nofile", Soft: 1024, Hard: 2048}, {Name: "core", Soft: 0, Hard: -1}},
		ShmSize: 128 << 20, ExtraHosts: []string{"a:1.2.3.4", "b:1.2.3.4", "six:::1"},
		DNS: []string{"10.0.0.53"}, DNSSearch: []string{"svc.example"}, DNSOptions: []string{"ndots:2", "rotate"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("options\n got %+v\nwant %+v", got, want)
	}
	plain, err := ContainerConfig(objs[1], "")
	if err != nil {
		t.Fatal(err)
	}
	if plain.ReadonlyRootfs || plain.CapDrop != nil || plain.Ulimits != nil || plain.ShmSize != 0 ||
		plain.ExtraHosts != nil || plain.DNS != nil || plain.DNSSearch != nil || plain.DNSOptions != nil {
		t.Errorf("a container without options got some: %+v", plain)
	}
}

// containerDoc is a Container document named name running busybox, with
// the spec lines extra.
func containerDoc(name, extra string) string {
	return "apiVersion: reconciler/v1\nkind: Container\nmetadata: {name: " + name + "}\nspec:\n  image: docker.io/library/busybox:1.36\n" + extra
}

// TestContainerConfigProcess: init, oomScoreAdj and logging become
// docker's --init, --oom-score-adj and --log-opt max-size (bytes, which
// the engine's json-file rules read back) and max-file; a container
// without them gets none.
func TestContainerConfigProcess(t *testing.T) {
	objs := manifest(t, t.TempDir(), "c.yaml", containerDoc("proc", "  init: true\n  oomScoreAdj: 500\n  logging: {maxSize: 10Mi, maxFiles: 3}\n")+
		"---\n"+containerDoc("sized", "  logging: {maxSize: 1k}\n")+"---\n"+containerDoc("plain", ""))
	for i, want := range []engine.ContainerConfig{
		{Init: true, OOMScoreAdj: 500, LogOptions: map[string]string{"max-size": "10485760", "max-file": "3"}},
		{LogOptions: map[string]string{"max-size": "1000"}},
		{},
	} {
		cfg, err := ContainerConfig(objs[i], "")
		if err != nil {
			t.Fatal(err)
		}
		got := engine.ContainerConfig{Init: cfg.Init, OOMScoreAdj: cfg.OOMScoreAdj, LogOptions: cfg.LogOptions}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v, want %+v", objs[i].Container.Metadata.Name, got, want)
		}
		if _, _, err := procopts.LogLimits(cfg.LogOptions); err != nil {
			t.Errorf("%s: the engine refuses the log options: %v", objs[i].Container.Metadata.Name, err)
		}
	}
}

func TestVolumeNameClashWithUnmanagedIsAnError(t *testing.T) {
	dir := t.TempDir()
	e := fake.New()
	if _, err := e.EnsureVolume(context.Background(), engine.VolumeConfig{Name: "data"}); err != nil {
		t.Fatal(err)
	}
	c, _ := newController(t, e, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := c.ApplyOnce(ctx, manifest(t, dir, "app.yaml", appYAML), nil)
	if err == nil || !strings.Contains(err.Error(), `volume/data: Failed: a volume named "data" already exists on host local and is not managed`) {
		t.Fatalf("apply: %v", err)
	}
	if !strings.Contains(err.Error(), "container/web: Failed: volume data failed") {
		t.Fatalf("the container using it should fail too: %v", err)
	}
}
