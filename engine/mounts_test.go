package engine

import (
	"reflect"
	"testing"
)

func TestWithAnonymousVolumes(t *testing.T) {
	bind := Mount{Type: MountBind, Source: "/srv", Target: "/data/sub"}
	named := Mount{Type: MountVolume, Source: "db", Target: "/var/lib/db/"}
	ms := []Mount{bind, named}
	if got := WithAnonymousVolumes(ms, nil); &got[0] != &ms[0] {
		t.Errorf("no paths: got a copy %v", got)
	}
	if got := WithAnonymousVolumes(ms, map[string]struct{}{"/var/lib/db": {}}); &got[0] != &ms[0] {
		t.Errorf("only covered paths: got a copy %v", got)
	}
	got := WithAnonymousVolumes(ms, map[string]struct{}{"/data": {}, "/var/lib/db": {}, "/": {}, "/cache/": {}})
	want := []Mount{
		{Type: MountVolume, Target: "/cache"},
		{Type: MountVolume, Target: "/data"},
		bind,
		named,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v\nwant %+v", got, want)
	}
	if !reflect.DeepEqual(ms, []Mount{bind, named}) {
		t.Errorf("the mounts given changed: %+v", ms)
	}
}
