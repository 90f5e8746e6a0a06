package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestCountSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "visits")
	for round, want := range []string{"visit 1\n", "visit 2\n"} {
		c, err := openCounter(path)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(c.handler())
		code, body := get(t, srv.URL+"/")
		if code != 200 || !strings.HasSuffix(body, want) {
			t.Errorf("round %d: GET / = %d %q, want suffix %q", round, code, body, want)
		}
		if code, body := get(t, srv.URL+"/healthz"); code != 200 || body != "ok\n" {
			t.Errorf("healthz = %d %q", code, body)
		}
		if code, _ := get(t, srv.URL+"/favicon.ico"); code != 404 {
			t.Errorf("favicon = %d, want 404 (not a visit)", code)
		}
		srv.Close()
	}
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "2\n" {
		t.Fatalf("file holds %q, %v", b, err)
	}
}

func TestCorruptCountIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "visits")
	os.WriteFile(path, []byte("many"), 0o644)
	if _, err := openCounter(path); err == nil || !strings.Contains(err.Error(), "does not hold a count") {
		t.Fatalf("err = %v", err)
	}
}
