package spec

import (
	"encoding/json"
	"fmt"
	"time"
)

// Key identifies an object: the same key declared twice is an error.
type Key struct {
	Host string
	Kind string
	Name string
}

func (k Key) String() string { return fmt.Sprintf("%s/%s on %s", lower(k.Kind), k.Name, k.Host) }

// Source says where a document came from, for error messages and the
// io.reconciler.source label.
type Source struct {
	File     string // as given by the user; "-" for stdin
	Document int    // 1-based index among the file's non-empty documents
	Line     int    // 1-based line of the document's first line; 0 if unknown
}

// Object is one decoded, defaulted and validated document. Exactly one of
// Container, Image, Volume and Host is set, matching Kind.
//
// Key.Host is the host the object lives on; a Host object itself belongs
// to the controller on this machine, so its Key.Host is LocalHost.
type Object struct {
	Key
	Source Source
	// Hash is the canonical hash of the defaulted spec (see Hash).
	Hash string

	Container *Container `json:"-"`
	Image     *Image     `json:"-"`
	Volume    *Volume    `json:"-"`
	HostObj   *Host      `json:"-"`

	lines lineIndex // field path -> line, for errors found after decoding
}

// Manifest returns the typed document (*Container, *Image, *Volume or
// *Host), for printing or comparing.
func (o *Object) Manifest() any {
	switch {
	case o.Container != nil:
		return o.Container
	case o.Image != nil:
		return o.Image
	case o.Volume != nil:
		return o.Volume
	case o.HostObj != nil:
		return o.HostObj
	}
	return nil
}

// Meta returns the object's metadata (name, labels, annotations).
func (o *Object) Meta() *ObjectMeta {
	switch {
	case o.Container != nil:
		return &o.Container.Metadata
	case o.Image != nil:
		return &o.Image.Metadata
	case o.Volume != nil:
		return &o.Volume.Metadata
	case o.HostObj != nil:
		return &o.HostObj.Metadata
	}
	return &ObjectMeta{}
}

// set stores a freshly allocated typed document in o.
func (o *Object) set(typed any) {
	switch t := typed.(type) {
	case *Container:
		o.Container, o.Kind = t, KindContainer
	case *Image:
		o.Image, o.Kind = t, KindImage
	case *Volume:
		o.Volume, o.Kind = t, KindVolume
	case *Host:
		o.HostObj, o.Kind = t, KindHost
	}
}

// applyDefaults fills defaults and derives the key from the result.
func (o *Object) applyDefaults() {
	switch {
	case o.Container != nil:
		defaultContainer(&o.Container.Spec)
		o.Host = o.Container.Spec.Host
	case o.Image != nil:
		defaultImage(&o.Image.Spec)
		o.Host = o.Image.Spec.Host
	case o.Volume != nil:
		defaultVolume(&o.Volume.Spec)
		o.Host = o.Volume.Spec.Host
	case o.HostObj != nil:
		defaultHost(&o.HostObj.Spec)
		o.Host = LocalHost
	}
	o.Name = o.Meta().Name
}

func (o *Object) validate(errs *fieldErrs) {
	switch {
	case o.Container != nil:
		validateContainer(o.Container, errs)
	case o.Image != nil:
		validateImage(o.Image, errs)
	case o.Volume != nil:
		validateVolume(o.Volume, errs)
	case o.HostObj != nil:
		validateHost(o.HostObj, errs)
	}
}

// Duration is a time.Duration written as "10s" or "1m30s".
type Duration struct{ time.Duration }

// MarshalJSON writes the duration in Go's notation.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.Duration.String()) }

// UnmarshalJSON reads Go's notation ("10s").
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("must be a duration string like \"10s\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("invalid duration %q: want a value like \"10s\" or \"1m30s\"", s)
	}
	d.Duration = v
	return nil
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
