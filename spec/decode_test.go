package spec

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var sprintf = fmt.Sprintf

const validApp = `# the example app
apiVersion: reconciler/v1
kind: Volume
metadata:
  name: data
---
apiVersion: reconciler/v1
kind: Image
metadata: {name: web}
spec:
  tag: web:1
  build: {context: ./src}
---
apiVersion: reconciler/v1
kind: Container
metadata:
  name: web
  labels: {app: shop}
spec:
  image: web:1
  env: [{name: PORT, value: "8080"}]
  volumes: [{name: data, mountPath: /data}]
  network: host
`

func TestDecodeValid(t *testing.T) {
	objs, err := Decode("app/app.yaml", []byte(validApp))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objs {
		got = append(got, o.Key.String()+" @ "+o.Source.String())
		if len(o.Hash) != 64 {
			t.Errorf("%s: hash %q", o.Key, o.Hash)
		}
	}
	want := []string{
		"volume/data on local @ app/app.yaml: document 1 (line 2)",
		"image/web on local @ app/app.yaml: document 2 (line 7)",
		"container/web on local @ app/app.yaml: document 3 (line 14)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("objects (-want +got):\n%s", diff)
	}
	c := objs[2].Container
	if c.Spec.RestartPolicy != RestartAlways || c.Spec.StopGracePeriod.Duration != DefaultStopGracePeriod || c.Spec.Host != LocalHost {
		t.Errorf("defaults not applied: %+v", c.Spec)
	}
	v := objs[0].Volume.Spec
	if v.Driver != "local" || v.ReclaimPolicy != ReclaimRetain {
		t.Errorf("volume defaults: %+v", v)
	}
	abs, _ := filepath.Abs("app/src")
	if b := objs[1].Image.Spec.Build; b.Context != abs || b.Dockerfile != "Dockerfile" {
		t.Errorf("build = %+v, want context %s and default Dockerfile", b, abs)
	}
	if err := Check(objs); err != nil {
		t.Errorf("Check: %v", err)
	}
}

func TestDecodeDocuments(t *testing.T) {
	vol := "apiVersion: reconciler/v1\nkind: Volume\nmetadata: {name: %s}\n"
	for _, tc := range []struct {
		name, in string
		want     []string // "key line"
	}{
		{"leading separator and empty documents", "---\n" + sprintf(vol, "a") + "---\n# only a comment\n---\n" + sprintf(vol, "b") + "...\n", []string{"a 1 2", "b 2 8"}},
		{"separator with comment", sprintf(vol, "a") + "--- # next\n" + sprintf(vol, "b"), []string{"a 1 1", "b 2 5"}},
		{"CRLF", strings.ReplaceAll(sprintf(vol, "a")+"---\n"+sprintf(vol, "b"), "\n", "\r\n"), []string{"a 1 1", "b 2 5"}},
		{"json stream", `{"apiVersion":"reconciler/v1","kind":"Volume","metadata":{"name":"a"}}` + "\n\n" +
			`{"apiVersion": "reconciler/v1", "kind": "Volume",` + "\n" + `"metadata": {"name": "b"}}`, []string{"a 1 1", "b 2 3"}},
		{"yaml flow mapping", "{apiVersion: reconciler/v1, kind: Volume, metadata: {name: a}}\n", []string{"a 1 1"}},
		{"empty file", "", nil},
		{"only comments", "# nothing\n---\n", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			objs, err := Decode("f.yaml", []byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, o := range objs {
				got = append(got, sprintf("%s %d %d", o.Name, o.Source.Document, o.Source.Line))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeErrors(t *testing.T) {
	head := "apiVersion: reconciler/v1\nkind: Container\nmetadata: {name: web}\nspec:\n"
	for _, tc := range []struct {
		name, in string
		want     []string
	}{
		{"unknown field with suggestion", head + "  image: docker.io/library/x:1\n  volumes:\n  - name: data\n    mountpath: /data\n",
			[]string{`f.yaml: document 1 (line 8): spec.volumes[0].mountpath: unknown field (did you mean "mountPath"?)`}},
		{"every error at once, in line order", head + "  image: UPPER\n  workingDir: rel\n  restartPolicy: always\n  env: [{name: A, value: 1}]\n",
			[]string{
				`f.yaml: document 1 (line 5): spec.image: "UPPER" is not a valid image reference: invalid reference format: repository name (library/UPPER) must be lowercase`,
				`f.yaml: document 1 (line 6): spec.workingDir: "rel" must be an absolute path`,
				`f.yaml: document 1 (line 7): spec.restartPolicy: "always" is not one of Always, OnFailure, Never (did you mean Always?)`,
				`f.yaml: document 1 (line 8): spec.env[0].value: must be a string, not the number 1: put the value in quotes`,
			}},
		{"missing required field at parent line", head + "  command: [x]\n",
			[]string{`f.yaml: document 1 (line 4): spec.image: is required: the tag of an Image object, or a registry reference like docker.io/library/busybox:1.36`}},
		{"yaml syntax error line is the file's", "apiVersion: reconciler/v1\nkind: Volume\nmetadata: {name: a}\n---\nkind: Volume\nmetadata: [\n",
			[]string{`f.yaml: document 2 (line 6): invalid YAML: did not find expected node content`}},
		{"duplicate key", "apiVersion: reconciler/v1\nkind: Volume\nmetadata: {name: a}\nkind: Volume\n",
			[]string{`f.yaml: document 1 (line 4): invalid YAML: key "kind" already set in map`}},
		{"bad kind", "apiVersion: reconciler/v1\nkind: container\n",
			[]string{`f.yaml: document 1 (line 2): kind: "container" is not a kind: did you mean Container?`}},
		{"bad apiVersion and name", "apiVersion: v1\nkind: Volume\nmetadata: {name: Data_1}\n",
			[]string{`f.yaml: document 1 (line 1): apiVersion: "v1" is not supported: use reconciler/v1`,
				`f.yaml: document 1 (line 3): metadata.name: "Data_1" is not a valid name: use at most 63 lower-case letters, digits and '-', starting and ending with a letter or digit`}},
		{"not a mapping", "- a\n- b\n", []string{`f.yaml: document 1 (line 1): a document must be a mapping with apiVersion, kind, metadata and spec, not a list`}},
		{"image sources", "apiVersion: reconciler/v1\nkind: Image\nmetadata: {name: a}\nspec:\n  tag: a:1\n  pull: {ref: x}\n  import: {path: a.tar}\n",
			[]string{`f.yaml: document 1 (line 4): spec: needs exactly one source, found import and pull`}},
		{"host tls on 2376", "apiVersion: reconciler/v1\nkind: Host\nmetadata: {name: edge}\nspec:\n  address: tcp://10.0.0.5:2376\n",
			[]string{`f.yaml: document 1 (line 4): spec.tls: is required for port 2376: set caFile, certFile and keyFile (see reconciler certs)`}},
		{"mounts", head + "  image: docker.io/library/x:1\n  volumes: [{name: d, mountPath: /data, subPath: ../x}]\n  tmpfs: [{mountPath: /data/, sizeLimit: 1x}]\n",
			[]string{`f.yaml: document 1 (line 6): spec.volumes[0].subPath: "../x" must be a relative path inside the volume`,
				`f.yaml: document 1 (line 7): spec.tmpfs[0].mountPath: /data is already mounted by spec.volumes[0]`,
				`f.yaml: document 1 (line 7): spec.tmpfs[0].sizeLimit: "1x" is not a quantity: want a byte count like 64Mi, 1.5Gi, 100M or 4096`}},
		{"label keys, quoted in paths, at their lines", "apiVersion: reconciler/v1\nkind: Volume\nmetadata:\n  name: v\n  labels:\n    ok.example/a: x\n    io.reconciler.kind: x\n    bad key: x\n",
			[]string{`f.yaml: document 1 (line 7): metadata.labels["io.reconciler.kind"]: labels starting with "io.reconciler." are set by the reconciler itself`,
				`f.yaml: document 1 (line 8): metadata.labels["bad key"]: "bad key" is not a valid label key: use letters, digits, '-', '_', '.' and '/', starting and ending with a letter or digit`}},
		{"anchors and merge keys", "apiVersion: reconciler/v1\nkind: Container\nmetadata: {name: a}\nspec:\n  image: docker.io/library/x:1\n  env: &e\n  - {name: A, value: b}\n  args: *e\n",
			[]string{`f.yaml: document 1 (line 8): spec.args[0]: must be a string, not a mapping`}},
		{"json syntax", `{"apiVersion":"reconciler/v1","kind":"Volume","metadata":{"name":"a"}}` + "\n" + `{"kind": ]`,
			[]string{`f.yaml: line 2: invalid JSON: invalid character ']' looking for beginning of value`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode("f.yaml", []byte(tc.in))
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error %v is not an ErrorList", err)
			}
			got := strings.Split(list.Error(), "\n")
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeKeepsValidObjectsBesideErrors(t *testing.T) {
	in := "apiVersion: reconciler/v1\nkind: Volume\nmetadata: {name: a}\n---\napiVersion: reconciler/v1\nkind: Volume\nmetadata: {name: B}\n"
	objs, err := Decode("f.yaml", []byte(in))
	if err == nil || len(objs) != 1 || objs[0].Name != "a" {
		t.Fatalf("got %v, %v; want volume a and an error", objs, err)
	}
}
