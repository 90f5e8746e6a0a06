package server

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/moby/moby/client/pkg/versions"
)

// Stream types of the stdcopy framing (docker-api-contract.md §4.1).
const (
	streamStdout byte = 1
	streamStderr byte = 2
)

// frameWriter frames each write as one stdcopy frame: 8-byte header
// (stream type, 3 zero bytes, big-endian payload length) plus payload.
// Frames from stdout and stderr share mu so they never interleave.
type frameWriter struct {
	mu     *sync.Mutex
	w      io.Writer
	stream byte
}

func (f *frameWriter) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var hdr [8]byte
	hdr[0] = f.stream
	binary.BigEndian.PutUint32(hdr[4:], uint32(len(p)))
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.w.Write(hdr[:]); err != nil {
		return 0, err
	}
	return f.w.Write(p)
}

// lockedWriter serialises raw (TTY) writes from two streams.
type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// outputs returns the stdout and stderr writers for w: stdcopy-framed, or
// raw when tty (a TTY merges both streams). A stream not wanted is nil.
func outputs(w io.Writer, tty, wantOut, wantErr bool) (stdout, stderr io.Writer) {
	mu := &sync.Mutex{}
	mk := func(stream byte) io.Writer {
		if tty {
			return &lockedWriter{mu: mu, w: w}
		}
		return &frameWriter{mu: mu, w: w, stream: stream}
	}
	if wantOut {
		stdout = mk(streamStdout)
	}
	if wantErr {
		stderr = mk(streamStderr)
	}
	return stdout, stderr
}

// hijack is a connection taken over from net/http for attach and exec.
// The upgrade head is written once, before the first output byte (or by
// upgrade), and an error before that is still sent as an HTTP reply.
type hijack struct {
	s    *Server
	rec  *recorder
	conn net.Conn
	buf  *bufio.ReadWriter
	head string
	once sync.Once
}

// startHijack takes over the connection of r. The reply will be a 101 if
// the client asked for an upgrade, else a 200 with the raw stream.
func (s *Server) startHijack(w http.ResponseWriter, r *http.Request, tty bool) (*hijack, error) {
	rec, _ := w.(*recorder)
	if rec == nil {
		return nil, fmt.Errorf("connection cannot be hijacked")
	}
	conn, buf, err := rec.Hijack()
	if err != nil {
		return nil, fmt.Errorf("hijack connection: %w", err)
	}
	s.trackHijack(conn, true)
	ctype := "application/vnd.docker.raw-stream"
	if !tty && versions.GreaterThanOrEqualTo(apiVersion(r), "1.42") {
		ctype = "application/vnd.docker.multiplexed-stream"
	}
	head := "HTTP/1.1 200 OK\r\nContent-Type: " + ctype + "\r\n\r\n"
	rec.setHijackStatus(http.StatusOK)
	if r.Header.Get("Upgrade") != "" {
		head = "HTTP/1.1 101 UPGRADED\r\nContent-Type: " + ctype + "\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n"
		rec.setHijackStatus(http.StatusSwitchingProtocols)
	}
	return &hijack{s: s, rec: rec, conn: conn, buf: buf, head: head}, nil
}

// upgrade sends the upgrade head (once).
func (h *hijack) upgrade() {
	h.once.Do(func() { h.conn.Write([]byte(h.head)) })
}

// Write sends output, upgrading first.
func (h *hijack) Write(p []byte) (int, error) {
	h.upgrade()
	return h.conn.Write(p)
}

// Read is the client's raw stdin (including bytes net/http had buffered).
func (h *hijack) Read(p []byte) (int, error) { return h.buf.Read(p) }

// fail replies with an error status if nothing was upgraded yet.
func (h *hijack) fail(err error) {
	sent := false
	h.once.Do(func() {
		sent = true
		code := statusOf(err)
		body := fmt.Sprintf("{\"message\":%q}\n", message(err))
		fmt.Fprintf(h.conn, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
			code, http.StatusText(code), len(body), body)
		h.rec.setHijackStatus(code)
	})
	if !sent {
		h.s.log.Warn("hijacked stream failed", "err", err)
	}
}

// hijackLinger bounds how long a closed stream waits for its client to
// close its side.
const hijackLinger = 2 * time.Second

// close ends the stream: the client reads EOF and finishes. The client
// may still be sending (a terminal's keystrokes or replies, a resize), and
// a socket closed with bytes unread resets the connection: the client
// could then lose the end of the output it has not read yet (docker
// exec -it failed so, now and then, with "connection reset by peer"). So
// after our EOF, what the client sends is read and dropped until it closes
// its side, for hijackLinger at most; the process is gone by then, so the
// stdin copier, if still reading, has nothing left to deliver either.
func (h *hijack) close() {
	h.upgrade()
	cw, ok := h.conn.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		h.conn.Close()
		h.s.trackHijack(h.conn, false)
		return
	}
	go func() {
		h.conn.SetReadDeadline(time.Now().Add(hijackLinger))
		io.Copy(io.Discard, h.conn)
		h.conn.Close()
		h.s.trackHijack(h.conn, false)
	}()
}

// streamCtx is the context of a request that may stay open for good
// (wait, logs -f, events): it also ends when the server shuts down, so
// Shutdown does not wait for such streams. Other requests finish.
func (s *Server) streamCtx(r *http.Request) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(r.Context())
	stop := context.AfterFunc(s.shutdownCtx, cancel)
	return ctx, func() { stop(); cancel() }
}

// hijackCtx is streamCtx for a hijacked connection, whose request context
// net/http stops watching once the handler took the connection over.
func (s *Server) hijackCtx(r *http.Request) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	stop := context.AfterFunc(s.shutdownCtx, cancel)
	return ctx, func() { stop(); cancel() }
}
