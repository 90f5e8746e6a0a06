package source

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFilesMakesSourcesAbsolute(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.yaml"), volumes("a"))
	write(t, filepath.Join(dir, "sub", "b.yaml"), "# nothing declared yet\n")
	wd, _ := os.Getwd()
	defer os.Chdir(wd)
	must(t, os.Chdir(dir))
	objs, files, err := Files([]string{"."}, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || objs[0].Source.File != filepath.Join(dir, "a.yaml") {
		t.Fatalf("objects %+v", objs)
	}
	if len(files) != 2 || files[1] != filepath.Join(dir, "sub", "b.yaml") {
		t.Fatalf("files %v", files)
	}
	objs, _, err = Files([]string{"-"}, false, strings.NewReader(volumes("s")))
	if err != nil || len(objs) != 1 || objs[0].Source.File != "-" {
		t.Fatalf("stdin: %v %v", objs, err)
	}
	if _, _, err := Files([]string{"missing.yaml"}, false, nil); err == nil || !strings.Contains(err.Error(), "missing.yaml") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestUnder(t *testing.T) {
	for _, c := range []struct {
		dir, file string
		want      bool
	}{
		{"/m", "/m/a.yaml", true},
		{"/m", "/m/x/a.yaml", true},
		{"/m", "/mm/a.yaml", false},
		{"/m", "/a.yaml", false},
		{"/m", "/m/..a.yaml", true},
	} {
		if got := Under(c.dir, c.file); got != c.want {
			t.Errorf("Under(%q, %q) = %v", c.dir, c.file, got)
		}
	}
}
