package procopts

import (
	"reflect"
	"testing"
)

// TestLogLimits: the json-file options read as dockerd reads them, and
// LogOptions writes sizes and counts in a form LogLimits reads back.
func TestLogLimits(t *testing.T) {
	for _, tc := range []struct {
		opts  map[string]string
		size  int64
		files int
		err   string
	}{
		{nil, 0, 0, ""},
		{map[string]string{"max-size": "10m"}, 10_000_000, 1, ""},
		{map[string]string{"max-size": "1k", "max-file": "3"}, 1000, 3, ""},
		{map[string]string{"max-file": "2"}, 0, 2, ""},
		{map[string]string{"max-size": "0"}, 0, 0, "--log-opt max-size=0: want a positive size such as 10m"},
		{map[string]string{"max-size": "lots"}, 0, 0, "--log-opt max-size=lots: want a positive size such as 10m"},
		{map[string]string{"max-file": "0"}, 0, 0, "--log-opt max-file=0: want a whole number of at least 1"},
		{map[string]string{"compress": "true"}, 0, 0, "--log-opt compress is not supported: the json-file log takes max-size and max-file only"},
	} {
		size, files, err := LogLimits(tc.opts)
		if (err == nil) != (tc.err == "") || err != nil && err.Error() != tc.err {
			t.Errorf("LogLimits(%v): error %v, want %q", tc.opts, err, tc.err)
		}
		if size != tc.size || files != tc.files {
			t.Errorf("LogLimits(%v) = %d, %d, want %d, %d", tc.opts, size, files, tc.size, tc.files)
		}
	}
	for _, tc := range []struct {
		size  int64
		files int
		want  map[string]string
	}{
		{0, 0, nil},
		{10 << 20, 0, map[string]string{"max-size": "10485760"}},
		{1 << 10, 3, map[string]string{"max-size": "1024", "max-file": "3"}},
	} {
		opts := LogOptions(tc.size, tc.files)
		if !reflect.DeepEqual(opts, tc.want) {
			t.Errorf("LogOptions(%d, %d) = %v, want %v", tc.size, tc.files, opts, tc.want)
		}
		if size, files, err := LogLimits(opts); err != nil || size != tc.size || files != max(tc.files, min(int(tc.size), 1)) {
			t.Errorf("LogLimits(LogOptions(%d, %d)) = %d, %d, %v", tc.size, tc.files, size, files, err)
		}
	}
	if CheckOOMScoreAdj(1000) != nil || CheckOOMScoreAdj(-1000) != nil || CheckOOMScoreAdj(1001) == nil || CheckOOMScoreAdj(-1001) == nil {
		t.Error("CheckOOMScoreAdj does not take exactly -1000..1000")
	}
}
