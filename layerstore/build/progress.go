package build

import (
	"fmt"
	"io"
	"strings"

	"github.com/opencontainers/go-digest"
)

// progress prints the classic builder's step log.
type progress struct {
	w     io.Writer
	step  int
	total int
}

func (p *progress) stepf(text string) {
	p.step++
	fmt.Fprintf(p.w, "Step %d/%d : %s\n", p.step, p.total, text)
}

func (p *progress) linef(format string, a ...any) {
	fmt.Fprintf(p.w, " ---> "+format+"\n", a...)
}

// shortID is the 12 hex digit form of an image ID that docker prints.
func shortID(id digest.Digest) string {
	s := strings.TrimPrefix(id.String(), "sha256:")
	if len(s) > 12 {
		s = s[:12]
	}
	return s
}

// tailBuffer keeps the last max bytes written to it: the end of a failed
// command's output, for the error message.
type tailBuffer struct {
	max int
	buf []byte
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

func (t *tailBuffer) String() string { return string(t.buf) }
