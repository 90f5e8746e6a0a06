package spec

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to the decoder, validator and set
// checks: none may panic or hang, every error must name the file, and
// every object decoded must survive a round trip (print it as JSON,
// decode that) with the same hash, which proves defaulting is idempotent.
func FuzzDecode(f *testing.F) {
	for _, seed := range []string{
		validApp, base, "", "---\n---\n", "{}", "[]", "null", "apiVersion: reconciler/v1\nkind: Volume\nmetadata: {name: a}\n",
		`{"apiVersion":"reconciler/v1","kind":"Host","metadata":{"name":"h"},"spec":{"address":"tcp://h:2376","tls":{"caFile":"ca.pem","certFile":"c.pem","keyFile":"k.pem"}}}`,
		"apiVersion: reconciler/v1\nkind: Image\nmetadata: {name: i}\nspec: {tag: 'i:1', build: {context: ., args: {A: b}, target: t}}\n",
		"a: &x [*x]\n", "kind: Container\nspec: {resources: {memory: 1.5Gi, cpus: 500m}, stopGracePeriod: 1h}\n",
	} {
		f.Add([]byte(seed))
	}
	examples, _ := filepath.Glob("../examples/*.yaml")
	invalid, _ := filepath.Glob("../examples/invalid/*.yaml")
	for _, p := range append(examples, invalid...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := decodeFile("fuzz.yaml", data)
		for _, e := range d.errs {
			if e.Source.File != "fuzz.yaml" || e.Detail == "" {
				t.Fatalf("bad error %#v", e)
			}
		}
		_ = check(d.objects, d.partial)
		for _, o := range d.objects {
			if o.Manifest() == nil || o.Hash != Hash(o) || o.Name == "" || o.Host == "" {
				t.Fatalf("incomplete object %+v", o)
			}
			out, err := json.Marshal(o.Manifest())
			if err != nil {
				t.Fatalf("marshal %s: %v", o.Key, err)
			}
			again, err := Decode("fuzz.json", out)
			if err != nil || len(again) != 1 {
				t.Fatalf("round trip of %s:\n%s\n%v", o.Key, out, err)
			}
			if again[0].Hash != o.Hash || again[0].Key != o.Key {
				t.Fatalf("round trip of %s changed it:\n%s", o.Key, out)
			}
		}
	})
}
