package reconcile

import (
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
