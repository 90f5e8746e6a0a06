package logs

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// decodeFast agrees with encoding/json on whatever encode writes, and
// declines (leaving it to encoding/json) what it does not handle.
func TestDecodeFastMatchesJSON(t *testing.T) {
	t0 := time.Date(2026, 11, 28, 14, 29, 0, 123456789, time.UTC)
	lines := []string{
		"", "plain\n", "0\n", `quote " backslash \ slash /` + "\n", "tab\tcr\r\x00\x1f\x7f",
		"<html> & \u2028\u2029", "é ü 日本 😀", "bad utf8 \xff\xfe", "partial line without newline",
	}
	for _, l := range lines {
		b, err := encode(Entry{Stream: Stderr, Time: t0, Line: []byte(l)})
		if err != nil {
			t.Fatal(err)
		}
		b = b[:len(b)-1]
		var r record
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatal(err)
		}
		want := Entry{Stream: r.Stream, Time: r.Time, Line: []byte(r.Log)}
		got, err := decode(b)
		if err != nil || got.Stream != want.Stream || !bytes.Equal(got.Line, want.Line) || !got.Time.Equal(want.Time) || !got.Time.Equal(t0) {
			t.Errorf("decode(%s) = %+v, %v; want %+v", b, got, err, want)
		}
	}
	// Escapes encode never writes but other writers of the format do.
	for in, want := range map[string]string{
		`{"log":"\ud83d\ude00 \u00e9 \/ \b\f","stream":"stdout","time":"2026-11-28T14:29:00Z"}`: "😀 é / \b\f",
		`{"log":"lone \ud83d surrogate","stream":"stdout","time":"2026-11-28T14:29:00Z"}`:       "lone \ufffd surrogate",
	} {
		e, ok := decodeFast([]byte(in))
		if !ok || string(e.Line) != want {
			t.Errorf("decodeFast(%s) = %q, %v; want %q", in, e.Line, ok, want)
		}
	}
	for _, in := range []string{
		`{"stream":"stdout","log":"x","time":"2026-11-28T14:29:00Z"}`,
		`{"log":"x", "stream":"stdout","time":"2026-11-28T14:29:00Z"}`,
		`{"log":"x\q","stream":"stdout","time":"2026-11-28T14:29:00Z"}`,
		`{"log":"x","stream":"stdout","time":"yesterday"}`,
		`{"log":"x","stream":"stdout","time":"2026-11-28T14:29:00Z"} `,
	} {
		if _, ok := decodeFast([]byte(in)); ok {
			t.Errorf("decodeFast(%s) accepted a form it should leave to encoding/json", in)
		}
	}
	if e, err := decode([]byte(`{"stream":"stdout", "log":"x\n","time":"2026-11-28T14:29:00Z"}`)); err != nil || string(e.Line) != "x\n" {
		t.Errorf("fallback decode = %+v, %v", e, err)
	}
}
