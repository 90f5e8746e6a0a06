package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	ggcr "github.com/google/go-containerregistry/pkg/registry"

	"github.com/reconciler/reconciler/internal/testutil"
)

func mustImageCLI(t *testing.T, root string, args ...string) string {
	t.Helper()
	out, errs, code := runOnRoot(root, "", args...)
	if code != 0 {
		t.Fatalf("reconciler %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errs)
	}
	return out
}

func TestImageCLI(t *testing.T) {
	testutil.NeedRoot(t, "image layers keep ownership")
	root := t.TempDir()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "etc/motd", Mode: 0o644, Size: 5})
	tw.Write([]byte("hello"))
	tw.Close()
	rootfs := filepath.Join(t.TempDir(), "rootfs.tar")
	os.WriteFile(rootfs, buf.Bytes(), 0o644)

	id := strings.TrimSpace(mustImageCLI(t, root, "image", "import", rootfs, "base:1"))
	if !strings.HasPrefix(id, "sha256:") {
		t.Fatalf("import printed %q", id)
	}
	mustImageCLI(t, root, "tag", "base:1", "reg.example/base:2")
	out := mustImageCLI(t, root, "images")
	if !strings.Contains(out, "REPOSITORY") || !strings.Contains(out, "base ") || !strings.Contains(out, id[7:19]) || !strings.Contains(out, "reg.example/base") {
		t.Fatalf("images:\n%s", out)
	}
	if out := mustImageCLI(t, root, "images", "-q"); out != id[7:19]+"\n" {
		t.Fatalf("images -q = %q", out)
	}
	if out := mustImageCLI(t, root, "image", "ls", "reg.example/base"); strings.Contains(out, "base:1") || !strings.Contains(out, "reg.example/base") {
		t.Fatalf("image ls REPO:\n%s", out)
	}
	var insp []struct {
		Id       string
		RepoTags []string
		RootFS   struct{ Layers []string }
	}
	if err := json.Unmarshal([]byte(mustImageCLI(t, root, "image", "inspect", "base:1")), &insp); err != nil || len(insp) != 1 || insp[0].Id != id || len(insp[0].RepoTags) != 2 || len(insp[0].RootFS.Layers) != 1 {
		t.Fatalf("inspect = %+v %v", insp, err)
	}
	if out := mustImageCLI(t, root, "image", "inspect", "-f", "{{.Id}} {{json .RepoTags}}", "base:1"); out != id+` ["base:1","reg.example/base:2"]`+"\n" {
		t.Fatalf("inspect -f = %q", out)
	}
	if out := mustImageCLI(t, root, "images", "--format", "{{.Repository}}:{{.Tag}}", "-f", "reference=reg.*/*"); out != "reg.example/base:2\n" {
		t.Fatalf("images --format --filter = %q", out)
	}
	if out := mustImageCLI(t, root, "images", "-q", "-f", "dangling=true"); out != "" {
		t.Fatalf("dangling images = %q", out)
	}
	if _, errs, code := runOnRoot(root, "", "images", "-f", "nope=1"); code != 2 || !strings.Contains(errs, "invalid filter") {
		t.Fatalf("bad filter: %d %q", code, errs)
	}
	if _, errs, code := runOnRoot(root, "", "image", "inspect", "nope"); code != 1 || !strings.Contains(errs, "No such image: nope") {
		t.Fatalf("inspect nope: %d %q", code, errs)
	}
	if out := mustImageCLI(t, root, "history", "base:1"); !strings.Contains(out, "reconciler image import") {
		t.Fatalf("history:\n%s", out)
	}

	archive := filepath.Join(t.TempDir(), "base.tar")
	mustImageCLI(t, root, "save", "-o", archive, "base:1")
	if names := tarNames(t, mustImageCLI(t, root, "save", "--format", "oci", "base:1")); !names["index.json"] || !names["oci-layout"] || names["manifest.json"] || names["repositories"] {
		t.Errorf("save --format oci is not an OCI layout alone: %v", names)
	}
	if out := mustImageCLI(t, root, "rmi", "base:1"); out != "Untagged: base:1\n" {
		t.Fatalf("rmi base:1 = %q", out)
	}
	if out := mustImageCLI(t, root, "image", "rm", "reg.example/base:2"); !strings.Contains(out, "Untagged: reg.example/base:2") || !strings.Contains(out, "Deleted: "+id) {
		t.Fatalf("image rm = %q", out)
	}
	if out := mustImageCLI(t, root, "images", "-q"); out != "" {
		t.Fatalf("images after rmi = %q", out)
	}
	if out := mustImageCLI(t, root, "load", "-i", archive); !strings.Contains(out, "Loaded image: base:1") {
		t.Fatalf("load = %q", out)
	}
	if _, errs, code := runOnRoot(root, "", "image", "tag", "base:1"); code != 2 || !strings.Contains(errs, "requires 2 argument") {
		t.Fatalf("tag with one argument: %d %q", code, errs)
	}

	// Push and pull through a loopback registry.
	srv := httptest.NewServer(ggcr.New(ggcr.Logger(log.New(io.Discard, "", 0))))
	defer srv.Close()
	remote := strings.TrimPrefix(srv.URL, "http://") + "/team/base:1"
	mustImageCLI(t, root, "tag", "base:1", remote)
	if out := mustImageCLI(t, root, "push", remote); !strings.Contains(out, "digest: sha256:") {
		t.Fatalf("push = %q", out)
	}
	mustImageCLI(t, root, "rmi", remote)
	if out := mustImageCLI(t, root, "image", "pull", remote); !strings.Contains(out, "Already exists") || !strings.HasSuffix(out, remote+"\n") {
		t.Fatalf("pull = %q", out)
	}

	mustImageCLI(t, root, "rmi", "base:1")
	if out := mustImageCLI(t, root, "image", "prune", "-a", "-f"); !strings.Contains(out, "deleted: "+id) || !strings.Contains(out, "Total reclaimed space:") {
		t.Fatalf("prune -a = %q", out)
	}
	if out := mustImageCLI(t, root, "images", "-q", "-a"); out != "" {
		t.Fatalf("images after prune = %q", out)
	}
}

// tarNames are the names of the entries of an archive.
func tarNames(t *testing.T, archive string) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	tr := tar.NewReader(strings.NewReader(archive))
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		if err != nil {
			t.Fatalf("archive: %v", err)
		}
		names[h.Name] = true
	}
}
