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
	Document int    // 1-based index among the file's documents
	Line     int    // 1-based line of the document's first line; 0 if unknown
}

// Object is one decoded, defaulted and validated document. Exactly one of
// Container, Image, Volume and Host is set, matching Kind.
type Object struct {
	Key
	Source Source
	// Hash is the canonical hash of the defaulted spec (see Hash).
	Hash string

	Container *Container `json:"-"`
	Image     *Image     `json:"-"`
	Volume    *Volume    `json:"-"`
	HostObj   *Host      `json:"-"`
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
