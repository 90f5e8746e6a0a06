package userdb

import (
	"reflect"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	passwd := []byte("root:x:0:0::/root:/bin/sh\n# comment\napp:x:1000:1001:App:/home/app:/bin/sh\nshort:x:7\n")
	group := []byte("root:x:0:\napp:x:1001:\nstaff:x:50:app,other\nwheel:x:10:root,app\n")
	for spec, want := range map[string]User{
		"":           {0, 0, []int{10}, "/root"},
		"app":        {1000, 1001, []int{50, 10}, "/home/app"},
		"1000":       {1000, 1001, []int{50, 10}, "/home/app"},
		"app:staff":  {1000, 50, []int{10}, "/home/app"},
		"app:0":      {1000, 0, []int{50, 10}, "/home/app"},
		"555":        {555, 0, nil, "/"},
		"555:wheel":  {555, 10, nil, "/"},
		"1000:12345": {1000, 12345, []int{50, 10}, "/home/app"},
	} {
		got, err := Resolve(spec, passwd, group)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("Resolve(%q) = %+v, %v; want %+v", spec, got, err, want)
		}
	}
	for _, spec := range []string{"ghost", "app:ghosts", "short"} {
		if _, err := Resolve(spec, passwd, group); err == nil || !strings.Contains(err.Error(), "unable to find") {
			t.Errorf("Resolve(%q) error = %v", spec, err)
		}
	}
	// No files: numeric users only.
	if got, err := Resolve("7:8", nil, nil); err != nil || got.Uid != 7 || got.Gid != 8 {
		t.Errorf("Resolve(7:8) without files = %+v, %v", got, err)
	}
	if _, err := Resolve("app", nil, nil); err == nil {
		t.Errorf("Resolve(app) without /etc/passwd: no error")
	}
}
