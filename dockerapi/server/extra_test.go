package server

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/reconciler/reconciler/dockerapi/fakebackend"
)

// TestHandleServesOwnRoutes: a route added with Handle answers beside the
// Docker API, is counted under its pattern, and its unknown neighbours
// get Docker's 404.
func TestHandleServesOwnRoutes(t *testing.T) {
	srv, err := New(Config{Backend: fakebackend.New(t.TempDir()), Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	srv.Handle("GET /reconciler/v1/status", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`[{"phase":"Ready"}]`))
	}))
	ts := &testServer{srv: srv, sock: filepath.Join(t.TempDir(), "r.sock")}
	ts.serve(t, "unix://"+ts.sock, nil)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})

	resp, body := ts.do(t, "GET", "/reconciler/v1/status", "")
	if resp.StatusCode != 200 || body != `[{"phase":"Ready"}]` || resp.Header.Get("Api-Version") != DefaultAPIVersion {
		t.Fatalf("GET /reconciler/v1/status: %d %q %v", resp.StatusCode, body, resp.Header)
	}
	if resp, body := ts.do(t, "GET", "/reconciler/v2/nothing", ""); resp.StatusCode != 404 || !strings.Contains(body, "page not found") {
		t.Errorf("unknown own route: %d %q, want Docker's 404", resp.StatusCode, body)
	}
	if resp, _ := ts.do(t, "POST", "/reconciler/v1/status", ""); resp.StatusCode != 405 {
		t.Errorf("POST on a GET route: %d, want 405", resp.StatusCode)
	}
	var m dto.Metric
	if err := srv.metrics.requests.WithLabelValues("GET", "/reconciler/v1/status", "200").Write(&m); err != nil {
		t.Fatal(err)
	}
	if n := m.GetCounter().GetValue(); n != 1 {
		t.Errorf("requests counted under the route's pattern: %v, want 1", n)
	}
	// Docker's routes are untouched.
	if resp, _ := ts.do(t, "GET", "/_ping", ""); resp.StatusCode != 200 {
		t.Errorf("/_ping: %d", resp.StatusCode)
	}
	mustPanic(t, "after Serve", func() { srv.Handle("GET /reconciler/v1/late", http.NotFoundHandler()) })
}

func TestHandleRejectsPatternsThatCouldClash(t *testing.T) {
	srv, err := New(Config{Backend: fakebackend.New(t.TempDir())})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/reconciler/v1/status", "GET /containers/json", "GET reconciler/x", " /reconciler/x"} {
		mustPanic(t, p, func() { srv.Handle(p, http.NotFoundHandler()) })
	}
}

func mustPanic(t *testing.T, what string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s: no panic", what)
		}
	}()
	f()
}
