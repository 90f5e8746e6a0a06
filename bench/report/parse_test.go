package main

import "testing"

// A benchmark run three times (-count 3) is reported by the median of
// each metric.
func TestParseTakesTheMedianOfRuns(t *testing.T) {
	r := results{}
	r.parse("./runtime", []string{
		"goos: linux",
		"BenchmarkX-2   	     100	  9000000 ns/op	         7.0 p50-ms",
		"BenchmarkX-2   	     100	 30000000 ns/op	         6.0 p50-ms",
		"BenchmarkX-2   	     100	 10000000 ns/op	        20.0 p50-ms",
		"BenchmarkY-2   	       5	  1000000 ns/op",
	})
	if v, _ := r.ms(m("./runtime", "BenchmarkX", "ns/op")); v != 10 {
		t.Errorf("ns/op median = %v ms, want 10", v)
	}
	if v, _ := r.ms(m("./runtime", "BenchmarkX", "p50-ms")); v != 7 {
		t.Errorf("p50-ms median = %v, want 7", v)
	}
	if v, _ := r.ms(m("./runtime", "BenchmarkY", "ns/op")); v != 1 {
		t.Errorf("a single run = %v ms, want 1", v)
	}
	if !r.ran("./runtime") {
		t.Error("the package is not marked as run")
	}
}
