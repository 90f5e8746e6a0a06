package logs

import (
	"bytes"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// A follower has to decode as fast as the shim encodes, or it falls behind
// and rotation outruns it; encoding/json takes about twice as long to
// decode a line as to encode one. decodeFast reads the exact form encode
// writes; decode falls back to encoding/json for anything else.

const (
	prefixLog    = `{"log":"`
	prefixStream = `,"stream":"`
	prefixTime   = `,"time":"`
	suffixRecord = `"}`
)

// decodeFast parses {"log":"...","stream":"...","time":"..."}; ok is false
// for any other form, to be decoded by encoding/json.
func decodeFast(b []byte) (e Entry, ok bool) {
	if !bytes.HasPrefix(b, []byte(prefixLog)) {
		return Entry{}, false
	}
	line, b, ok := unquote(b[len(prefixLog):])
	// encoding/json turns invalid UTF-8 into U+FFFD; leave that to it.
	if !ok || !utf8.Valid(line) || !bytes.HasPrefix(b, []byte(prefixStream)) {
		return Entry{}, false
	}
	b = b[len(prefixStream):]
	i := bytes.IndexByte(b, '"')
	if i < 0 || bytes.IndexByte(b[:i], '\\') >= 0 {
		return Entry{}, false
	}
	stream, b := string(b[:i]), b[i:]
	if !bytes.HasPrefix(b, []byte(`"`+prefixTime)) {
		return Entry{}, false
	}
	b = b[1+len(prefixTime):]
	i = bytes.IndexByte(b, '"')
	if i < 0 || string(b[i:]) != suffixRecord {
		return Entry{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(b[:i]))
	if err != nil {
		return Entry{}, false
	}
	return Entry{Stream: stream, Time: t, Line: line}, true
}

// unquote decodes a JSON string's body up to its closing quote and returns
// it and what follows the quote.
func unquote(b []byte) (s, rest []byte, ok bool) {
	i := bytes.IndexAny(b, `"\`)
	if i >= 0 && b[i] == '"' {
		return append([]byte(nil), b[:i]...), b[i+1:], true
	}
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		c := b[0]
		switch {
		case c == '"':
			return out, b[1:], true
		case c < ' ':
			return nil, nil, false
		case c != '\\':
			out, b = append(out, c), b[1:]
			continue
		}
		if len(b) < 2 {
			return nil, nil, false
		}
		switch b[1] {
		case '"', '\\', '/':
			out = append(out, b[1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, n := unicodeEscape(b)
			if n == 0 {
				return nil, nil, false
			}
			out, b = utf8.AppendRune(out, r), b[n:]
			continue
		default:
			return nil, nil, false
		}
		b = b[2:]
	}
	return nil, nil, false
}

// unicodeEscape decodes \uXXXX, or a surrogate pair \uXXXX\uXXXX, at the
// start of b; n is how many bytes it took (0 if malformed).
func unicodeEscape(b []byte) (r rune, n int) {
	r1, ok := hex4(b)
	if !ok {
		return 0, 0
	}
	if utf16.IsSurrogate(r1) {
		if r2, ok := hex4(b[6:]); ok {
			if r := utf16.DecodeRune(r1, r2); r != utf8.RuneError {
				return r, 12
			}
		}
		return utf8.RuneError, 6
	}
	return r1, 6
}

// hex4 reads \uXXXX at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 6 || b[0] != '\\' || b[1] != 'u' {
		return 0, false
	}
	var r rune
	for _, c := range b[2:6] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}
