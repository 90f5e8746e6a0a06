// Package logs is the container log format: JSON lines in the layout of
// Docker's json-file driver ({"log":"...","stream":"stdout","time":"..."}),
// bounded in size by rotation (NAME, NAME.1, ... NAME.N-1), and a reader
// that tails, filters by time and stream, and follows across rotations.
//
// One process writes a log (the container's shim); any number read it. They
// agree through a flock on the log's directory: the writer rotates under
// it, readers list the files under it (see Read for what a follower is
// guaranteed).
package logs

import (
	"encoding/json"
	"time"
)

// Streams, as Docker names them.
const (
	Stdout = "stdout"
	Stderr = "stderr"
)

// Entry is one chunk of output: a line with its trailing newline, or a
// partial line when the line was longer than MaxLine or the stream ended
// without a newline.
type Entry struct {
	Stream string
	Time   time.Time
	Line   []byte
}

// record is the on-disk form of an Entry.
type record struct {
	Log    string    `json:"log"`
	Stream string    `json:"stream"`
	Time   time.Time `json:"time"`
}

// Format renders the entry as a terminal prints it, with Docker's
// RFC3339Nano timestamp prefix when timestamps is set.
func (e Entry) Format(timestamps bool) []byte {
	if !timestamps {
		return e.Line
	}
	ts := e.Time.UTC().Format(time.RFC3339Nano)
	b := make([]byte, 0, len(ts)+1+len(e.Line))
	b = append(b, ts...)
	b = append(b, ' ')
	return append(b, e.Line...)
}

func encode(e Entry) ([]byte, error) {
	b, err := json.Marshal(record{Log: string(e.Line), Stream: e.Stream, Time: e.Time.UTC()})
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func decode(line []byte) (Entry, error) {
	if e, ok := decodeFast(line); ok {
		return e, nil
	}
	var r record
	if err := json.Unmarshal(line, &r); err != nil {
		return Entry{}, err
	}
	return Entry{Stream: r.Stream, Time: r.Time, Line: []byte(r.Log)}, nil
}
