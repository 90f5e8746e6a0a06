package spec

import "testing"

func TestParseQuantity(t *testing.T) {
	for in, want := range map[string]int64{
		"0": 0, "4096": 4096, "64Mi": 64 << 20, "1.5Gi": 3 << 29, "1k": 1000, "100M": 100e6,
		"2Ti": 2 << 40, "1E": 1e18, "0.5Ki": 512,
	} {
		got, err := ParseQuantity(in)
		if err != nil || got != want {
			t.Errorf("ParseQuantity(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "64m", "1g", "1.2.3", "-1", "1e3", "0.1", "Mi", "8Ei", " 1"} {
		if n, err := ParseQuantity(in); err == nil {
			t.Errorf("ParseQuantity(%q) = %d, want an error", in, n)
		}
	}
}

func TestFormatQuantity(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 64 << 20: "64Mi", 1e9: "1G", 1536: "1536", 1000: "1k", 1023: "1023", 3 << 29: "1536Mi"} {
		if got := FormatQuantity(n); got != want {
			t.Errorf("FormatQuantity(%d) = %q, want %q", n, got, want)
		}
		if back, err := ParseQuantity(FormatQuantity(n)); err != nil || back != n {
			t.Errorf("round trip of %d: %d, %v", n, back, err)
		}
	}
}

func TestCPUs(t *testing.T) {
	for in, want := range map[string]int64{"0.5": 5e8, "2": 2e9, "500m": 5e8, "0.000000001": 1, "1.50": 15e8} {
		got, err := ParseCPUs(in)
		if err != nil || got != want {
			t.Errorf("ParseCPUs(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "0.0000000001", "-1", "1,5"} {
		if n, err := ParseCPUs(in); err == nil {
			t.Errorf("ParseCPUs(%q) = %d, want an error", in, n)
		}
	}
	for n, want := range map[int64]string{5e8: "0.5", 2e9: "2", 1: "0.000000001", 15e8: "1.5"} {
		if got := FormatCPUs(n); got != want {
			t.Errorf("FormatCPUs(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestParseSignal(t *testing.T) {
	for _, in := range []string{"SIGTERM", "TERM", "sigterm", "15"} {
		if name, num, err := ParseSignal(in); err != nil || name != "SIGTERM" || num != 15 {
			t.Errorf("ParseSignal(%q) = %s, %d, %v", in, name, num, err)
		}
	}
	for _, in := range []string{"", "SIGNOPE", "0", "99"} {
		if _, _, err := ParseSignal(in); err == nil {
			t.Errorf("ParseSignal(%q): want an error", in)
		}
	}
}

func TestRefs(t *testing.T) {
	for in, want := range map[string]bool{
		"web:1": false, "web": false, "library/web:1": false, "docker.io/library/busybox:1.36": true,
		"localhost:5000/app": true, "localhost/app": true, "app@sha256:abc": true, "registry.example.com/a/b:1": true,
	} {
		if got := IsExplicitRef(in); got != want {
			t.Errorf("IsExplicitRef(%q) = %v", in, got)
		}
	}
	for in, want := range map[string]string{"web": "web:latest", "web:1": "web:1", "localhost:5000/web": "localhost:5000/web:latest", "BAD": "BAD"} {
		if got := NormalizeRef(in); got != want {
			t.Errorf("NormalizeRef(%q) = %q, want %q", in, got, want)
		}
	}
}
