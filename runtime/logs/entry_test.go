package logs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"
)

// encode writes exactly what encoding/json writes for the record, so
// every reader of the format (ours, docker's, jq) sees the same bytes.
func TestEncodeMatchesJSON(t *testing.T) {
	lines := []string{
		"", "plain\n", `quote " backslash \ slash /` + "\n", "tab\tcr\r\x00\x1f\x7f\b\f",
		"<html> & \u2028\u2029", "é ü 日本 😀", "bad utf8 \xff\xfe", "cut rune \xe6\x97", "\xed\xa0\x80 surrogate",
	}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", " ", "\n", "\"", "\\", "<", "&", "\x01", "\x7f", "é", "日", "😀", "\u2028", "\xff", "\xe6\x97"}
	for range 2000 {
		var l string
		for range rng.IntN(40) {
			l += alphabet[rng.IntN(len(alphabet))]
		}
		lines = append(lines, l)
	}
	times := []time.Time{
		time.Date(2026, 11, 28, 14, 29, 0, 123456789, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 120000000, time.FixedZone("CET", 3600)),
	}
	for i, l := range lines {
		e := Entry{Stream: []string{Stdout, Stderr}[i%2], Time: times[i%len(times)], Line: []byte(l)}
		got, err := encode(e)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(record{Log: l, Stream: e.Stream, Time: e.Time.UTC()})
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want)+"\n" {
			t.Fatalf("encode(%q)\n got %s\nwant %s", l, got, want)
		}
	}
	if _, err := encode(Entry{Stream: Stdout, Time: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}); err == nil {
		t.Error("a time past year 9999 encoded; RFC 3339 has no room for it")
	}
}

func BenchmarkEncode(b *testing.B) {
	e := Entry{Stream: Stdout, Time: time.Now(), Line: []byte("GET /api/v1/items?id=42 200 1.3ms \"curl/8.5\" <ok>\n")}
	for b.Loop() {
		if _, err := encode(e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCopy is a container printing short lines faster than its shim
// writes them: what the shim spends per line (mostly the write of each).
func BenchmarkCopy(b *testing.B) {
	var in []byte
	for i := range 10000 {
		in = append(in, fmt.Sprintf("GET /api/v1/items?id=%d 200 1.3ms\n", i)...)
	}
	w, err := OpenWriter(filepath.Join(b.TempDir(), "c.log"), 0, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	for b.Loop() {
		if err := w.Copy(Stdout, bytes.NewReader(in)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/10000, "ns/line")
}
