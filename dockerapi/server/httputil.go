package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/reconciler/reconciler/dockerapi"
	"github.com/reconciler/reconciler/engine"
)

// statusOf maps an engine error to Docker's status code.
func statusOf(err error) int {
	switch {
	case errors.Is(err, engine.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, engine.ErrConflict):
		return http.StatusConflict
	case errors.Is(err, engine.ErrInvalid):
		return http.StatusBadRequest
	case errors.Is(err, dockerapi.ErrNotModified):
		return http.StatusNotModified
	default:
		return http.StatusInternalServerError
	}
}

// errorf is a 400 for a malformed request.
func errorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{engine.ErrInvalid}, args...)...)
}

// message strips the sentinel's own text that wrapping added ("not found:
// ..."), so users see Docker-like messages.
func message(err error) string {
	s := err.Error()
	for _, prefix := range []string{engine.ErrInvalid.Error() + ": ", engine.ErrNotFound.Error() + ": ", engine.ErrConflict.Error() + ": "} {
		s = strings.TrimPrefix(s, prefix)
	}
	return s
}

func writeError(w http.ResponseWriter, err error) {
	code := statusOf(err)
	if code == http.StatusNotModified {
		w.WriteHeader(code)
		return
	}
	writeJSON(w, code, map[string]string{"message": message(err)})
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		code, b = http.StatusInternalServerError, []byte(`{"message":"encode response: `+err.Error()+`"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(code)
	w.Write(append(b, '\n'))
}

func decodeBody(r *http.Request, v any) error {
	if r.Body == nil || r.ContentLength == 0 {
		return errorf("request body is empty")
	}
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		return errorf("invalid JSON body: %v", err)
	}
	return nil
}

// boolValue reads a Docker boolean query value: "1", "true" (any case)
// and "yes" are true; missing, "", "0" and "false" are false.
func boolValue(r *http.Request, key string) bool {
	switch strings.ToLower(r.URL.Query().Get(key)) {
	case "1", "true", "yes":
		return true
	}
	return false
}

// boolDefault is boolValue with a default for a missing parameter.
func boolDefault(r *http.Request, key string, def bool) bool {
	if !r.URL.Query().Has(key) {
		return def
	}
	return boolValue(r, key)
}

func filters(r *http.Request) (dockerapi.Filters, error) {
	return dockerapi.ParseFilters(r.URL.Query().Get("filters"))
}

// flush sends what was written so far to the client.
func flush(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// lazyWriter writes the status and headers only on the first Write (or
// start), so a handler can still fail with a proper status before any
// byte of the body exists. Every write is flushed.
type lazyWriter struct {
	w           http.ResponseWriter
	contentType string
	mu          sync.Mutex
	started     bool
}

func (l *lazyWriter) start() {
	if l.started {
		return
	}
	l.started = true
	if l.contentType != "" {
		l.w.Header().Set("Content-Type", l.contentType)
	}
	l.w.WriteHeader(http.StatusOK)
	flush(l.w)
}

func (l *lazyWriter) Start() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.start()
}

func (l *lazyWriter) Started() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.started
}

func (l *lazyWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.start()
	n, err := l.w.Write(p)
	flush(l.w)
	return n, err
}

// jsonStream is a newline-separated JSON message stream (build, pull,
// load, push). Text written to it becomes {"stream": text} messages.
type jsonStream struct{ lw *lazyWriter }

func newJSONStream(w http.ResponseWriter) *jsonStream {
	return &jsonStream{lw: &lazyWriter{w: w, contentType: "application/json"}}
}

func (s *jsonStream) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = s.lw.Write(append(b, '\n'))
	return err
}

func (s *jsonStream) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if err := s.send(map[string]string{"stream": string(p)}); err != nil {
		return 0, err
	}
	return len(p), nil
}

// finish reports err: before the stream started as an ordinary error reply
// (returned to the router), after it in-band as the CLI expects.
func (s *jsonStream) finish(err error) error {
	if err == nil {
		s.lw.Start()
		return nil
	}
	if !s.lw.Started() {
		return err
	}
	s.send(map[string]any{"error": message(err), "errorDetail": map[string]string{"message": message(err)}})
	return nil
}

// filtered serves a GET or POST whose only input is the filters query
// (lists, prunes): 200 with what get returns.
func filtered[T any](get func(ctx context.Context, f dockerapi.Filters) (T, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, _ params) error {
		f, err := filters(r)
		if err != nil {
			return err
		}
		v, err := get(r.Context(), f)
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, v)
		return nil
	}
}

// inspect serves GET of one object (container, exec, image, volume) as
// JSON: get looks it up by the path variable key.
func inspect[T any](key string, get func(ctx context.Context, ref string) (T, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request, p params) error {
		v, err := get(r.Context(), p[key])
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, v)
		return nil
	}
}
