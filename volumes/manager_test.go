package volumes

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/reconciler/reconciler/engine"
)

func openT(t *testing.T, root string) *Manager {
	t.Helper()
	m, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func mustCreate(t *testing.T, m *Manager, name string, labels map[string]string) *Volume {
	t.Helper()
	v, err := m.Create(CreateOptions{Name: name, Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// assertNoTemp fails if a temporary file or folder is left anywhere under root.
func assertNoTemp(t *testing.T, root string) {
	t.Helper()
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && (strings.HasPrefix(d.Name(), tmpPrefix) || d.Name() == stagingDir) {
			t.Errorf("leftover temporary %s", p)
		}
		return nil
	})
}

func TestLabelManagedMatchesEngine(t *testing.T) {
	if LabelManaged != engine.LabelManaged {
		t.Fatalf("LabelManaged = %q, engine says %q", LabelManaged, engine.LabelManaged)
	}
}

func TestCreateIdempotent(t *testing.T) {
	m := openT(t, t.TempDir())
	labels := map[string]string{"app": "shop"}
	v1 := mustCreate(t, m, "data", labels)
	if err := os.WriteFile(filepath.Join(v1.Mountpoint, "keep"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	v2, err := m.Create(CreateOptions{Name: "data", Driver: "local", Labels: map[string]string{"app": "shop"}})
	if err != nil {
		t.Fatalf("second create with the same options: %v", err)
	}
	if !v2.CreatedAt.Equal(v1.CreatedAt) || v2.Mountpoint != v1.Mountpoint || v2.Scope != "local" || v2.Driver != "local" {
		t.Errorf("second create returned %+v, first %+v", v2, v1)
	}
	if _, err := os.Stat(filepath.Join(v2.Mountpoint, "keep")); err != nil {
		t.Errorf("data lost by idempotent create: %v", err)
	}
	if v1.Mountpoint != filepath.Join(m.Root(), "data", "_data") {
		t.Errorf("Mountpoint = %s", v1.Mountpoint)
	}
	assertNoTemp(t, m.Root())
}

func TestCreateDifferentOptions(t *testing.T) {
	m := openT(t, t.TempDir())
	mustCreate(t, m, "data", map[string]string{"app": "shop"})
	_, err := m.Create(CreateOptions{Name: "data", Labels: map[string]string{"app": "blog"}})
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("create with other labels: %v, want ErrConflict", err)
	}
	if !strings.Contains(err.Error(), "labels {app=shop}, not {app=blog}") {
		t.Errorf("error does not say which field differs: %v", err)
	}
	if _, err := m.Create(CreateOptions{Name: "data"}); !errors.Is(err, ErrConflict) {
		t.Errorf("create without labels over a labelled volume: %v, want ErrConflict", err)
	}
	_, err = m.Create(CreateOptions{Name: "other", Driver: "nfs"})
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), `"nfs"`) {
		t.Errorf("create with driver nfs: %v, want ErrInvalid naming the driver", err)
	}
	if _, err := m.Get("other"); !errors.Is(err, ErrNotFound) {
		t.Errorf("refused create left a volume: %v", err)
	}
}

func TestInvalidNames(t *testing.T) {
	m := openT(t, t.TempDir())
	for _, name := range []string{"a", "-x", ".hidden", "../escape", "a/b", "with space", "x:y", "/abs", "é1"} {
		_, err := m.Create(CreateOptions{Name: name})
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Create(%q) = %v, want ErrInvalid", name, err)
		} else if !strings.Contains(err.Error(), "invalid characters") && !strings.Contains(err.Error(), "too short") {
			t.Errorf("Create(%q): unclear error %v", name, err)
		}
		if _, err := m.Get(name); !errors.Is(err, ErrInvalid) {
			t.Errorf("Get(%q) = %v, want ErrInvalid", name, err)
		}
	}
	for _, name := range []string{"ab", "a_b.c-d", "0data", "Data9"} {
		if _, err := m.Create(CreateOptions{Name: name}); err != nil {
			t.Errorf("Create(%q): %v", name, err)
		}
	}
	entries, _ := os.ReadDir(m.Root())
	if len(entries) != 5 { // .lock and the four valid volumes
		t.Errorf("state folder holds %d entries, want 5", len(entries))
	}
}

func TestAnonymousCreate(t *testing.T) {
	m := openT(t, t.TempDir())
	v, err := m.Create(CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(v.Name) || !v.Anonymous() {
		t.Errorf("anonymous volume %q labels %v", v.Name, v.Labels)
	}
}

func TestRemoveInUseNamesContainers(t *testing.T) {
	m := openT(t, t.TempDir())
	mustCreate(t, m, "data", nil)
	c1, c2 := "c1d2e3f4a5b6", "4f5a6b7c8d9e"
	for _, c := range []string{c2, c1, c2} { // a repeated Use is recorded once
		if err := m.Use("data", c); err != nil {
			t.Fatal(err)
		}
	}
	err := m.Remove("data", true)
	if !errors.Is(err, ErrInUse) || !errors.Is(err, ErrConflict) {
		t.Fatalf("Remove of used volume: %v, want ErrInUse (an ErrConflict)", err)
	}
	if want := "remove data: volume is in use - [" + c2 + ", " + c1 + "]"; err.Error() != want { // IDs sorted
		t.Errorf("error %q, want %q", err, want)
	}
	if err := m.Release("data", c1); err != nil {
		t.Fatal(err)
	}
	if users, _ := m.Users("data"); len(users) != 1 || users[0] != c2 {
		t.Errorf("Users after Release = %v", users)
	}
	if names, err := m.ReleaseAll(c2); err != nil || len(names) != 1 || names[0] != "data" {
		t.Errorf("ReleaseAll = %v, %v", names, err)
	}
	if err := m.Remove("data", false); err != nil {
		t.Fatalf("Remove after Release: %v", err)
	}
	if _, err := m.Get("data"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Remove: %v", err)
	}
	if err := m.Remove("data", false); !errors.Is(err, ErrNotFound) || err.Error() != "get data: no such volume" {
		t.Errorf("Remove of missing volume: %v", err)
	}
	if err := m.Remove("data", true); err != nil {
		t.Errorf("Remove -f of missing volume: %v", err)
	}
	if err := m.Use("data", c1); !errors.Is(err, ErrNotFound) {
		t.Errorf("Use of missing volume: %v", err)
	}
	assertNoTemp(t, m.Root())
}

func TestListFilters(t *testing.T) {
	m := openT(t, t.TempDir())
	mustCreate(t, m, "web-data", map[string]string{"app": "shop", "tier": "web"})
	mustCreate(t, m, "db-data", map[string]string{"app": "shop", "tier": "db"})
	mustCreate(t, m, "scratch", nil)
	if err := m.Use("db-data", "c1"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		exprs []string
		want  string
	}{
		{nil, "db-data,scratch,web-data"},
		{[]string{"label=app"}, "db-data,web-data"},
		{[]string{"label=app=shop", "label=tier=web"}, "web-data"},
		{[]string{"label=tier=cache"}, ""},
		{[]string{"dangling=true"}, "scratch,web-data"},
		{[]string{"dangling=false"}, "db-data"},
		{[]string{"dangling=true", "label=app"}, "web-data"},
		{[]string{"name=data"}, "db-data,web-data"},
		{[]string{"driver=local"}, "db-data,scratch,web-data"},
	}
	for _, c := range cases {
		f, err := ParseFilter(c.exprs)
		if err != nil {
			t.Fatal(err)
		}
		vols, err := m.List(f)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, v := range vols {
			names = append(names, v.Name)
		}
		if got := strings.Join(names, ","); got != c.want {
			t.Errorf("List(%v) = %s, want %s", c.exprs, got, c.want)
		}
	}
	for _, bad := range []string{"label", "dangling=maybe", "color=red", "label="} {
		if _, err := ParseFilter([]string{bad}); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseFilter(%q) = %v, want ErrInvalid", bad, err)
		}
	}
}

func TestPruneRules(t *testing.T) {
	m := openT(t, t.TempDir())
	anon, err := m.Create(CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(anon.Mountpoint, "f"), make([]byte, 1000), 0o644)
	usedAnon, _ := m.Create(CreateOptions{})
	m.Use(usedAnon.Name, "c1")
	mustCreate(t, m, "named", map[string]string{"team": "a"})
	mustCreate(t, m, "named-b", map[string]string{"team": "b"})
	mustCreate(t, m, "kept", map[string]string{LabelManaged: "true", LabelReclaimPolicy: ReclaimRetain})
	mustCreate(t, m, "kept-default", map[string]string{LabelManaged: "true"})
	mustCreate(t, m, "deletable", map[string]string{LabelManaged: "true", LabelReclaimPolicy: ReclaimDelete})
	mustCreate(t, m, "used", nil)
	m.Use("used", "c2")

	rep, err := m.Prune(PruneOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rep.Deleted, ",") != anon.Name || rep.SpaceReclaimed != 1000 {
		t.Errorf("prune without All: %+v, want only %s (1000 bytes)", rep, anon.Name)
	}

	rep, err = m.Prune(PruneOptions{All: true, Filter: Filter{Labels: []string{"team=a"}}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rep.Deleted, ",") != "named" {
		t.Errorf("prune --all --filter label=team=a deleted %v", rep.Deleted)
	}

	rep, err = m.Prune(PruneOptions{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rep.Deleted, ","); got != "deletable,named-b" {
		t.Errorf("prune --all deleted %s, want deletable,named-b", got)
	}
	if got := strings.Join(rep.Retained, ","); got != "kept,kept-default" {
		t.Errorf("prune --all retained %s, want kept,kept-default", got)
	}

	rep, err = m.Prune(PruneOptions{All: true, IncludeRetained: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(rep.Deleted, ","); got != "kept,kept-default" {
		t.Errorf("prune including retained deleted %s", got)
	}
	vols, _ := m.List(Filter{})
	var left []string
	for _, v := range vols {
		left = append(left, v.Name)
	}
	if got, want := strings.Join(left, ","), strings.Join([]string{usedAnon.Name, "used"}, ","); got != want {
		t.Errorf("left after prunes: %s, want the used ones %s", got, want)
	}
	assertNoTemp(t, m.Root())
}

func TestSurvivesReopen(t *testing.T) {
	root := t.TempDir()
	m := openT(t, root)
	v := mustCreate(t, m, "data", map[string]string{"k": "v"})
	if err := os.WriteFile(filepath.Join(v.Mountpoint, "db"), []byte("rows"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := m.Use("data", "c1"); err != nil {
		t.Fatal(err)
	}
	m.Close()

	m2 := openT(t, root) // a restarted daemon
	v2, err := m2.Get("data")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(v2.Mountpoint, "db")); err != nil || string(b) != "rows" {
		t.Errorf("data after reopen: %q, %v", b, err)
	}
	if len(v2.Users) != 1 || v2.Users[0] != "c1" || v2.Labels["k"] != "v" || !v2.CreatedAt.Equal(v.CreatedAt) {
		t.Errorf("metadata after reopen: %+v", v2)
	}
	if err := m2.Remove("data", false); !errors.Is(err, ErrInUse) {
		t.Errorf("usage not persisted: Remove = %v", err)
	}
}

func TestOpenCleansCrashLeftovers(t *testing.T) {
	root := t.TempDir()
	m := openT(t, root)
	mustCreate(t, m, "data", nil)
	m.Close()
	// What crashes leave: a half-created volume, a half-removed one, a
	// metadata temp file, and an unfinished copy-up staging folder.
	os.MkdirAll(filepath.Join(root, ".tmp-create-new-123", "_data"), 0o755)
	os.MkdirAll(filepath.Join(root, ".tmp-remove-old-456", "_data", "x"), 0o755)
	os.WriteFile(filepath.Join(root, "data", ".tmp-meta.json-789"), []byte("{"), 0o600)
	os.MkdirAll(filepath.Join(root, "data", "_copyup", "half"), 0o755)
	// And a folder that is not a volume, which must be left alone.
	os.MkdirAll(filepath.Join(root, "notmine", "stuff"), 0o755)

	m2 := openT(t, root)
	assertNoTemp(t, root)
	vols, err := m2.List(Filter{})
	if err != nil || len(vols) != 1 || vols[0].Name != "data" || vols[0].CopiedUp {
		t.Fatalf("after recovery: %v, %v", vols, err)
	}
	if _, err := os.Stat(filepath.Join(root, "notmine", "stuff")); err != nil {
		t.Errorf("recovery touched a foreign folder: %v", err)
	}
}

func TestUsage(t *testing.T) {
	m := openT(t, t.TempDir())
	v := mustCreate(t, m, "data", nil)
	os.MkdirAll(filepath.Join(v.Mountpoint, "d"), 0o755)
	os.WriteFile(filepath.Join(v.Mountpoint, "d", "a"), make([]byte, 3000), 0o644)
	os.WriteFile(filepath.Join(v.Mountpoint, "b"), make([]byte, 500), 0o644)
	os.Link(filepath.Join(v.Mountpoint, "b"), filepath.Join(v.Mountpoint, "b2"))
	n, err := m.Usage("data")
	if err != nil || n != 3500 {
		t.Errorf("Usage = %d, %v; want 3500 (hard link counted once)", n, err)
	}
	if _, err := dirUsage(v.Mountpoint, 2); !errors.Is(err, errTooManyEntries) {
		t.Errorf("bounded walk: %v", err)
	}
}

func TestCheckBind(t *testing.T) {
	dir := t.TempDir()
	if err := CheckBind(dir); err != nil {
		t.Errorf("CheckBind(existing) = %v", err)
	}
	missing := filepath.Join(dir, "nope")
	err := CheckBind(missing)
	if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "bind source path does not exist: "+missing) {
		t.Errorf("CheckBind(missing) = %v", err)
	}
	if err := CheckBind("relative/path"); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "must be absolute") {
		t.Errorf("CheckBind(relative) = %v", err)
	}
}
