package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// Hash is the canonical hash of an object: sha256 over the JSON of its
// kind, name, labels and defaulted spec. encoding/json writes struct
// fields in declaration order and map keys sorted, and omits empty
// values, so the hash depends only on meaning: not on key order, comments,
// formatting, or defaults written out. Annotations are left out: they
// change nothing on the host.
//
// The controller stores it in the io.reconciler.spec-hash label; a
// different hash means the object must be recreated or rebuilt.
func Hash(o Object) string {
	meta := o.Meta()
	var spec any
	switch {
	case o.Container != nil:
		spec = o.Container.Spec
	case o.Image != nil:
		spec = o.Image.Spec
	case o.Volume != nil:
		spec = o.Volume.Spec
	case o.HostObj != nil:
		spec = o.HostObj.Spec
	}
	b, err := json.Marshal(struct {
		Kind   string            `json:"kind"`
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels,omitempty"`
		Spec   any               `json:"spec"`
	}{o.Kind, meta.Name, meta.Labels, spec})
	if err != nil { // only plain strings, numbers and maps: cannot happen
		panic("spec: hash: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
