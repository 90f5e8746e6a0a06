package volumes

import (
	"errors"
	"reflect"
	"testing"

	"github.com/reconciler/reconciler/engine"
)

func TestParseVolumeFlag(t *testing.T) {
	good := map[string]engine.Mount{
		"data:/var/lib/db":      {Type: engine.MountVolume, Source: "data", Target: "/var/lib/db"},
		"data:/var/lib/db:ro":   {Type: engine.MountVolume, Source: "data", Target: "/var/lib/db", ReadOnly: true},
		"/srv/www:/usr/share:z": {Type: engine.MountBind, Source: "/srv/www", Target: "/usr/share"},
		"/srv:/srv:rw,Z":        {Type: engine.MountBind, Source: "/srv", Target: "/srv"},
		"/cache":                {Type: engine.MountVolume, Target: "/cache"},
	}
	for spec, want := range good {
		got, err := ParseVolumeFlag(spec)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("ParseVolumeFlag(%q) = %+v, %v; want %+v", spec, got, err, want)
		}
	}
	for _, spec := range []string{"", "rel", "data:rel", "data:/", "x:/a", "da ta:/a", "data:/a:nocopy", "data:/a:shared", "data:/a:ro,rw", "a:/b:ro:x", "data:/a:"} {
		if _, err := ParseVolumeFlag(spec); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseVolumeFlag(%q) = %v, want ErrInvalid", spec, err)
		}
	}
}
