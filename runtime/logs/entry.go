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
	"unicode/utf8"
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

// encode writes e as encoding/json would write its record, byte for byte
// (TestEncodeMatchesJSON), in a third of json.Marshal's time: the shim
// encodes every line a container prints. (Decoding, decodeFast, takes
// about as long, and a followed log gets a write per line: a follower
// keeps up with the writer.)
func encode(e Entry) ([]byte, error) { return appendEntry(make([]byte, 0, len(e.Line)+96), e) }

// appendEntry appends what encode writes for e to b (b unchanged on error).
func appendEntry(b []byte, e Entry) ([]byte, error) {
	t := e.Time.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		// Not RFC 3339: encoding/json says why.
		if _, err := json.Marshal(record{Time: t}); err != nil {
			return b, err
		}
	}
	b = appendQuoted(append(b, prefixLog[:len(prefixLog)-1]...), e.Line)
	b = appendQuoted(append(b, prefixStream[:len(prefixStream)-1]...), e.Stream)
	b = append(t.AppendFormat(append(b, prefixTime...), time.RFC3339Nano), suffixRecord...)
	return append(b, '\n'), nil
}

// appendQuoted appends s as a JSON string the way encoding/json writes
// one: HTML-safe (<, > and & escaped), invalid UTF-8 as U+FFFD, U+2028
// and U+2029 escaped.
func appendQuoted[S []byte | string](b []byte, s S) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(string(s[i:min(len(s), i+utf8.UTFMax)]))
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(append(b, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	return append(append(b, s[start:]...), '"')
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
