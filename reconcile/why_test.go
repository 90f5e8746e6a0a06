package reconcile

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/reconciler/reconciler/spec"
)

func TestWhyNamesFields(t *testing.T) {
	old := &spec.Container{Metadata: spec.ObjectMeta{Name: "web"}, Spec: spec.ContainerSpec{
		Image: "shop:1", Command: []string{"/bin/web"},
		Env:     []spec.EnvVar{{Name: "A", Value: "1"}, {Name: "PORT", Value: "8080"}},
		Volumes: []spec.VolumeMount{{Name: "data", MountPath: "/data"}},
	}}
	new := &spec.Container{Metadata: spec.ObjectMeta{Name: "web"}, Spec: spec.ContainerSpec{
		Image: "shop:1", Command: []string{"/bin/web", "-v"},
		Env:     []spec.EnvVar{{Name: "PORT", Value: "9090"}, {Name: "A", Value: "1"}, {Name: "B", Value: "2"}},
		Volumes: []spec.VolumeMount{{Name: "data", MountPath: "/data", ReadOnly: true}},
	}}
	got := Why(old, new)
	want := []string{
		`spec.command: ["/bin/web"] -> ["/bin/web","-v"]`,
		`spec.env[B]: <unset> -> "2"`,
		`spec.env[PORT]: "8080" -> "9090"`,
		`spec.volumes[data].readOnly: <unset> -> true`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Why:\n got %q\nwant %q", got, want)
	}
	if r := Why(old, old); len(r) != 0 {
		t.Fatalf("equal specs differ: %q", r)
	}
	if r := Why((*spec.Container)(nil), new); r != nil {
		t.Fatalf("unknown old: %q", r)
	}
}

// TestWhyNamesContainerOptions: a change to any of the container options
// is named, lists of named things by their names.
func TestWhyNamesContainerOptions(t *testing.T) {
	doc := func(soft, ip, ndots string) *spec.Container {
		objs := manifest(t, t.TempDir(), "c.yaml", `apiVersion: reconciler/v1
kind: Container
metadata: {name: web}
spec:
  image: docker.io/library/busybox:1.36
  ulimits: [{name: core, soft: 0, hard: 0}, {name: nofile, soft: `+soft+`, hard: 2048}]
  hostAliases: [{ip: 10.0.0.1, hostnames: [db]}, {ip: `+ip+`, hostnames: [a]}]
  dnsConfig: {nameservers: [10.0.0.53], options: [{name: ndots, value: "`+ndots+`"}]}
`)
		return objs[0].Container
	}
	old := doc("1024", "1.2.3.4", "2")
	if r := Why(old, doc("1024", "1.2.3.4", "2")); len(r) != 0 {
		t.Fatalf("equal specs differ: %q", r)
	}
	added := doc("1024", "1.2.3.4", "2")
	s := &added.Spec
	s.ReadOnlyRootFilesystem, s.CapDrop, s.ShmSize = true, []string{"NET_RAW"}, "128Mi"
	s.DNSConfig.Searches = []string{"svc.example"}
	want := []string{
		`spec.capDrop: <unset> -> ["NET_RAW"]`,
		`spec.dnsConfig.searches: <unset> -> ["svc.example"]`,
		`spec.readOnlyRootFilesystem: <unset> -> true`,
		`spec.shmSize: <unset> -> "128Mi"`,
	}
	if got := Why(old, added); !reflect.DeepEqual(got, want) {
		t.Errorf("Why of added options:\n got %q\nwant %q", got, want)
	}
	want = []string{
		`spec.dnsConfig.options[ndots]: "2" -> "3"`,
		`spec.hostAliases[1.2.3.4]: {"hostnames":["a"],"ip":"1.2.3.4"} -> <unset>`,
		`spec.hostAliases[1.2.3.5]: <unset> -> {"hostnames":["a"],"ip":"1.2.3.5"}`,
		`spec.ulimits[nofile].soft: 1024 -> 2048`,
	}
	if got := Why(old, doc("2048", "1.2.3.5", "3")); !reflect.DeepEqual(got, want) {
		t.Errorf("Why of changed options:\n got %q\nwant %q", got, want)
	}
}

// TestWhyNamesProcessOptions: init, oomScoreAdj and logging are named
// when set, changed or dropped.
func TestWhyNamesProcessOptions(t *testing.T) {
	doc := func(extra string) *spec.Container {
		objs := manifest(t, t.TempDir(), "c.yaml", containerDoc("web", extra))
		return objs[0].Container
	}
	old := doc("")
	set := doc("  init: true\n  oomScoreAdj: 500\n  logging: {maxSize: 10Mi, maxFiles: 3}\n")
	want := []string{
		`spec.init: <unset> -> true`,
		`spec.logging: <unset> -> {"maxFiles":3,"maxSize":"10Mi"}`,
		`spec.oomScoreAdj: <unset> -> 500`,
	}
	if got := Why(old, set); !reflect.DeepEqual(got, want) {
		t.Errorf("Why of added options:\n got %q\nwant %q", got, want)
	}
	want = []string{
		`spec.init: true -> <unset>`,
		`spec.logging.maxFiles: 3 -> <unset>`,
		`spec.logging.maxSize: "10Mi" -> "1Mi"`,
		`spec.oomScoreAdj: 500 -> -500`,
	}
	if got := Why(set, doc("  oomScoreAdj: -500\n  logging: {maxSize: 1Mi}\n")); !reflect.DeepEqual(got, want) {
		t.Errorf("Why of changed options:\n got %q\nwant %q", got, want)
	}
}

func TestSpecLabelRoundTrip(t *testing.T) {
	small := &spec.Container{Metadata: spec.ObjectMeta{Name: "web"}, Spec: spec.ContainerSpec{Image: "a:1"}}
	big := &spec.Container{Metadata: spec.ObjectMeta{Name: "web"}, Spec: spec.ContainerSpec{Image: "a:1"}}
	for i := 0; i < 100; i++ {
		big.Spec.Env = append(big.Spec.Env, spec.EnvVar{Name: "V" + string(rune('A'+i%26)) + string(rune('a'+i/26)), Value: "some value"})
	}
	for _, doc := range []*spec.Container{small, big} {
		enc, err := encodeDoc(doc)
		if err != nil {
			t.Fatal(err)
		}
		var back spec.Container
		if !decodeDoc(enc, &back) || len(Why(doc, &back)) != 0 {
			t.Fatalf("round trip of %d-byte label failed", len(enc))
		}
	}
}

func TestContextDigestHonoursDockerignore(t *testing.T) {
	dir := t.TempDir()
	os.Mkdir(filepath.Join(dir, "tmp"), 0o755)
	for name, content := range map[string]string{
		"Dockerfile": "FROM scratch\nCOPY . /\n", "main.go": "package main\n",
		".dockerignore": "*.log\ntmp/\n", "app.log": "1", "tmp/x": "1",
	} {
		write(t, filepath.Join(dir, name), content)
	}
	h := newContextHasher()
	d1, _, err := h.digest(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dir, "app.log"), "2")
	write(t, filepath.Join(dir, "tmp", "x"), "2")
	if d2, _, _ := h.digest(dir, ""); d2 != d1 {
		t.Fatal("an ignored file changed the digest")
	}
	write(t, filepath.Join(dir, "main.go"), "package main // 2\n")
	d3, sums, _ := h.digest(dir, "")
	if d3 == d1 {
		t.Fatal("an edited source file left the digest as it was")
	}
	h.record(dir, sums)
	write(t, filepath.Join(dir, "new.go"), "package main\n")
	_, sums, _ = h.digest(dir, "")
	if got := h.changed(dir, sums); len(got) != 1 || got[0] != "new.go" {
		t.Fatalf("changed %v", got)
	}
}
