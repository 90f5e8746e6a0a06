package reconcile

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"sync"

	"github.com/reconciler/reconciler/engine"
	"github.com/reconciler/reconciler/spec"
)

// Labels the controller adds beside engine's managed labels.
const (
	// LabelSpec holds the defaulted document an object was created from
	// (JSON; base64 gzip JSON when large), so a later change can be explained field by
	// field even after the controller restarted.
	LabelSpec = "io.reconciler.spec"
	// LabelReclaim records a volume's reclaimPolicy, so pruning can honour
	// it when the manifest that declared the volume is gone.
	LabelReclaim = "io.reconciler.reclaim-policy"
	// LabelStopGrace records a container's stop grace period, so it can be
	// stopped gracefully after its manifest is gone.
	LabelStopGrace = "io.reconciler.stop-grace"
)

// managedLabels are the labels selecting the objects of one kind and name.
func selector(kind, name string) map[string]string {
	return map[string]string{engine.LabelManaged: "true", engine.LabelKind: kind, engine.LabelName: name}
}

// ownLabels are the labels every object created for o carries, on top of
// the user's labels, which cannot override them.
func ownLabels(o spec.Object, user map[string]string, doc any) map[string]string {
	l := maps.Clone(user)
	if l == nil {
		l = map[string]string{}
	}
	maps.Copy(l, selector(o.Kind, o.Name))
	l[engine.LabelSpecHash] = o.Hash
	l[engine.LabelSource] = o.Source.File
	if enc, err := encodeDoc(doc); err == nil {
		l[LabelSpec] = enc
	}
	return l
}

// gzipPool reuses compressors: a new one allocates over a megabyte.
var gzipPool = sync.Pool{New: func() any { return gzip.NewWriter(nil) }}

// encodeDoc writes doc as JSON, or for documents above 512 bytes as
// base64 gzip JSON, to keep labels small.
func encodeDoc(doc any) (string, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return "", err
	}
	if len(b) <= 512 {
		return string(b), nil
	}
	var buf bytes.Buffer
	zw := gzipPool.Get().(*gzip.Writer)
	defer gzipPool.Put(zw)
	zw.Reset(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// decodeDoc reads a LabelSpec value into doc; false if absent or unreadable
// (an object created by an older controller explains itself by hash only).
func decodeDoc(s string, doc any) bool {
	if s == "" {
		return false
	}
	if s[0] == '{' {
		return json.Unmarshal([]byte(s), doc) == nil
	}
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return false
	}
	zr, err := gzip.NewReader(bytes.NewReader(raw))
	if err != nil {
		return false
	}
	b, err := io.ReadAll(io.LimitReader(zr, 1<<20))
	if err != nil {
		return false
	}
	return json.Unmarshal(b, doc) == nil
}

// specReasons explains a spec-hash change between what an object was
// created from (its LabelSpec) and cur, whose hash is hash; without a
// readable LabelSpec it can say only that the hash changed.
func specReasons[T any](labels map[string]string, cur *T, hash string) []string {
	var old T
	if decodeDoc(labels[LabelSpec], &old) {
		if r := Why(&old, cur); len(r) > 0 {
			return r
		}
	}
	return []string{fmt.Sprintf("spec-hash changed: %s -> %s", short(labels[engine.LabelSpecHash]), short(hash))}
}

func short(h string) string {
	if h == "" {
		return "<none>"
	}
	if len(h) > 12 {
		return h[:12]
	}
	return h
}
