package spec

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
)

// Byte quantities are written as in Kubernetes: a number with an optional
// binary (Ki, Mi, Gi, Ti, Pi, Ei) or decimal (k, M, G, T, P, E) suffix.
var quantitySuffixes = []struct {
	suffix string
	mult   int64
}{
	{"Ei", 1 << 60}, {"Pi", 1 << 50}, {"Ti", 1 << 40}, {"Gi", 1 << 30}, {"Mi", 1 << 20}, {"Ki", 1 << 10},
	{"E", 1e18}, {"P", 1e15}, {"T", 1e12}, {"G", 1e9}, {"M", 1e6}, {"k", 1e3},
}

// ParseQuantity reads a byte count like "64Mi", "1.5Gi", "100M" or "4096".
// It is the one parser of memory and tmpfs sizes, shared by every package.
func ParseQuantity(s string) (int64, error) {
	num, mult := s, int64(1)
	for _, q := range quantitySuffixes {
		if strings.HasSuffix(s, q.suffix) {
			num, mult = strings.TrimSuffix(s, q.suffix), q.mult
			break
		}
	}
	r, ok := parseDecimal(num)
	if !ok {
		if low := strings.ToLower(s); strings.HasSuffix(low, "m") || strings.HasSuffix(low, "g") || strings.HasSuffix(low, "b") {
			return 0, fmt.Errorf("%q is not a quantity: write binary units like 64Mi or 1Gi (or decimal 64M, 1G)", s)
		}
		return 0, fmt.Errorf("%q is not a quantity: want a byte count like 64Mi, 1.5Gi, 100M or 4096", s)
	}
	r.Mul(r, new(big.Rat).SetInt64(mult))
	if !r.IsInt() {
		return 0, fmt.Errorf("%q is not a whole number of bytes", s)
	}
	if !r.Num().IsInt64() {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return r.Num().Int64(), nil
}

// FormatQuantity writes n in the largest unit that represents it exactly,
// preferring binary units: 67108864 -> "64Mi", 1000000000 -> "1G".
func FormatQuantity(n int64) string {
	if n == 0 {
		return "0"
	}
	for _, q := range quantitySuffixes {
		if n%q.mult == 0 {
			return strconv.FormatInt(n/q.mult, 10) + q.suffix
		}
	}
	return strconv.FormatInt(n, 10)
}

// ParseCPUs reads a CPU count like "0.5", "2" or "500m" (millicpus) as
// nano-CPUs, Docker's unit (NanoCPUs).
func ParseCPUs(s string) (int64, error) {
	num, mult := s, int64(1e9)
	if strings.HasSuffix(s, "m") {
		num, mult = strings.TrimSuffix(s, "m"), 1e6
	}
	r, ok := parseDecimal(num)
	if !ok {
		return 0, fmt.Errorf("%q is not a CPU count: want a decimal like \"0.5\" or \"2\", or millicpus like \"500m\"", s)
	}
	r.Mul(r, new(big.Rat).SetInt64(mult))
	if !r.IsInt() {
		return 0, fmt.Errorf("%q is more precise than a billionth of a CPU", s)
	}
	if !r.Num().IsInt64() {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return r.Num().Int64(), nil
}

// FormatCPUs writes nano-CPUs as the shortest decimal: 500000000 -> "0.5".
func FormatCPUs(nano int64) string {
	s := new(big.Rat).SetFrac64(nano, 1e9).FloatString(9)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}

// parseDecimal reads a non-negative decimal with at most 30 digits (plain
// digits and one dot: no signs, exponents or spaces).
func parseDecimal(s string) (*big.Rat, bool) {
	if s == "" || s == "." || len(s) > 30 {
		return nil, false
	}
	dots := 0
	for _, c := range s {
		switch {
		case c == '.':
			dots++
		case c < '0' || c > '9':
			return nil, false
		}
	}
	if dots > 1 {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}
