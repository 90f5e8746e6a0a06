// Command counter is the example app: a static HTTP server that counts
// visits and keeps the count in a file, so the count survives restarts
// and recreations of its container when that file lives in a volume.
//
// Environment: PORT (default 8080) and DATA_DIR (default /data).
package main

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	port := envOr("PORT", "8080")
	dir := envOr("DATA_DIR", "/data")
	c, err := openCounter(filepath.Join(dir, "visits"))
	if err != nil {
		log.Fatalf("counter: %v", err)
	}
	srv := &http.Server{Addr: ":" + port, Handler: c.handler(), ReadHeaderTimeout: 10 * time.Second}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	log.Printf("counter: serving on :%s, %d visits so far, kept in %s", port, c.visits, c.path)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatalf("counter: %v", err)
	}
	log.Printf("counter: stopped after %d visits", c.visits)
}

// counter is the visit count and the file that keeps it.
type counter struct {
	mu     sync.Mutex
	path   string
	visits int64
}

func openCounter(path string) (*counter, error) {
	c := &counter{path: path}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return c, os.MkdirAll(filepath.Dir(path), 0o755)
	case err != nil:
		return nil, err
	}
	if c.visits, err = strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err != nil {
		return nil, fmt.Errorf("%s does not hold a count: %v", path, err)
	}
	return c, nil
}

// visit counts one visit and saves the new count before answering, so an
// answered visit is never lost.
func (c *counter) visit() (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := writeAtomic(c.path, []byte(strconv.FormatInt(c.visits+1, 10)+"\n")); err != nil {
		return 0, err
	}
	c.visits++
	return c.visits, nil
}

func (c *counter) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		n, err := c.visit()
		if err != nil {
			log.Printf("counter: %v", err)
			http.Error(w, "cannot save the count", http.StatusInternalServerError)
			return
		}
		host, _ := os.Hostname()
		fmt.Fprintf(w, "Hello from %s: visit %d\n", host, n)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	return mux
}

// writeAtomic replaces path with data so a crash leaves the old or the
// new count, never a torn one: temp file, fsync, rename.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".visits-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
