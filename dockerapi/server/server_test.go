package server

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/prometheus/client_golang/prometheus"
)

func TestRouterMatchesImageNamesWithSlashesAndColons(t *testing.T) {
	ts := startServer(t)
	for path, want := range map[string]string{
		"/images/localhost:5000/foo/mini:3/json": "localhost:5000/foo/mini:3",
		"/images/mini:1/json":                    "mini:1",
		"/images/a/b/c/tag":                      "a/b/c",
	} {
		_, p, ok := ts.srv.router.match(map[bool]string{true: "GET", false: "POST"}[strings.HasSuffix(path, "json")], path)
		if !ok || p["name"] != want {
			t.Errorf("%s: name %q (ok %v), want %q", path, p["name"], ok, want)
		}
	}
	rt, p, _ := ts.srv.router.match("DELETE", "/images/localhost:5000/foo/mini:3")
	if rt == nil || p["name"] != "localhost:5000/foo/mini:3" {
		t.Errorf("DELETE image with slashes: %v", p)
	}
	for _, path := range []string{"/v1.41/containers/json", "/containers/json", "/v1.24/containers/json"} {
		_, rest := stripVersion(path)
		if rest != "/containers/json" {
			t.Errorf("stripVersion(%s) = %s", path, rest)
		}
	}
}

// client talks HTTP over the test server's unix socket.
func (ts *testServer) client() *http.Client {
	return &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "unix", ts.sock)
	}}}
}

func (ts *testServer) do(t *testing.T, method, path, body string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://d"+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := ts.client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func TestPingAndVersionNegotiation(t *testing.T) {
	ts := startServer(t)
	resp, body := ts.do(t, "HEAD", "/_ping", "")
	if resp.StatusCode != 200 || body != "" {
		t.Fatalf("HEAD /_ping: %d %q", resp.StatusCode, body)
	}
	for k, want := range map[string]string{"Api-Version": "1.41", "Docker-Experimental": "false", "Ostype": "linux", "Cache-Control": "no-cache, no-store, must-revalidate"} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("ping header %s = %q, want %q", k, got, want)
		}
	}
	if !strings.HasPrefix(resp.Header.Get("Server"), "Reconciler/test") {
		t.Errorf("Server header %q", resp.Header.Get("Server"))
	}
	if resp, body := ts.do(t, "GET", "/_ping", ""); resp.StatusCode != 200 || body != "OK" {
		t.Errorf("GET /_ping: %d %q", resp.StatusCode, body)
	}
	if resp, body := ts.do(t, "GET", "/v1.50/version", ""); resp.StatusCode != 400 || !strings.Contains(body, "client version 1.50 is too new. Maximum supported API version is 1.41") {
		t.Errorf("too new: %d %s", resp.StatusCode, body)
	}
	if resp, body := ts.do(t, "GET", "/v1.12/version", ""); resp.StatusCode != 400 || !strings.Contains(body, "too old") {
		t.Errorf("too old: %d %s", resp.StatusCode, body)
	}
	resp, body = ts.do(t, "GET", "/v1.41/version", "")
	var v struct{ ApiVersion, MinAPIVersion, Os string }
	if json.Unmarshal([]byte(body), &v); resp.StatusCode != 200 || v.ApiVersion != "1.41" || v.MinAPIVersion != "1.24" || v.Os != "linux" {
		t.Errorf("version: %d %s", resp.StatusCode, body)
	}
	if resp, body := ts.do(t, "GET", "/nosuch", ""); resp.StatusCode != 404 || !strings.Contains(body, `"message"`) {
		t.Errorf("unknown path: %d %s", resp.StatusCode, body)
	}
	if resp, _ := ts.do(t, "PUT", "/containers/json", ""); resp.StatusCode != 405 {
		t.Errorf("wrong method: %d", resp.StatusCode)
	}
}

func TestErrorStatusCodes(t *testing.T) {
	ts := startServer(t)
	cases := []struct {
		method, path, body string
		code               int
		msg                string
	}{
		{"GET", "/v1.41/containers/nosuch/json", "", 404, "No such container: nosuch"},
		{"POST", "/v1.41/containers/create", `{"Image":"nosuch:1"}`, 404, "No such image: nosuch:1"},
		{"POST", "/v1.41/containers/create", `{`, 400, "invalid JSON body"},
		{"GET", "/v1.41/containers/json?filters=notjson", "", 400, "invalid filters"},
		{"GET", "/v1.41/containers/json?filters={\"bogus\":{\"x\":true}}", "", 400, "invalid filter 'bogus'"},
		{"POST", "/v1.41/containers/x/wait?condition=later", "", 400, "invalid condition"},
		{"DELETE", "/v1.41/volumes/nosuch", "", 404, "no such volume"},
	}
	for _, c := range cases {
		resp, body := ts.do(t, c.method, c.path, c.body)
		var m struct{ Message string }
		json.Unmarshal([]byte(body), &m)
		if resp.StatusCode != c.code || !strings.Contains(m.Message, c.msg) || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: %d %q, want %d with %q", c.method, c.path, resp.StatusCode, body, c.code, c.msg)
		}
	}
	resp, body := ts.do(t, "POST", "/v1.41/containers/create?name=aa", `{"Image":"busybox:local","Cmd":["sleep","10"]}`)
	if resp.StatusCode != 201 || !strings.Contains(body, `"Warnings":[]`) {
		t.Fatalf("create: %d %s", resp.StatusCode, body)
	}
	if resp, _ := ts.do(t, "POST", "/v1.41/containers/create?name=aa", `{"Image":"busybox:local"}`); resp.StatusCode != 409 {
		t.Errorf("name conflict: %d", resp.StatusCode)
	}
	ts.do(t, "POST", "/v1.41/containers/aa/start", "")
	if resp, _ := ts.do(t, "POST", "/v1.41/containers/aa/start", ""); resp.StatusCode != 304 {
		t.Errorf("start running container: %d, want 304", resp.StatusCode)
	}
	if resp, _ := ts.do(t, "DELETE", "/v1.41/containers/aa", ""); resp.StatusCode != 409 {
		t.Errorf("remove running container: %d, want 409", resp.StatusCode)
	}
}

// TestWaitFlushesHeadersAtOnce: the CLI sends start only after it has the
// wait's response headers (gotcha 2).
func TestWaitFlushesHeadersAtOnce(t *testing.T) {
	ts := startServer(t)
	ts.do(t, "POST", "/v1.41/containers/create?name=ww", `{"Image":"busybox:local","Cmd":["sleep","10"]}`)
	conn, err := net.Dial("unix", ts.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "POST /v1.41/containers/ww/wait?condition=next-exit HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\n\r\n")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("no wait headers before the container ran: %v", err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("wait: %d", resp.StatusCode)
	}
	ts.do(t, "POST", "/v1.41/containers/ww/start", "")
	ts.do(t, "POST", "/v1.41/containers/ww/kill", "")
	var wr struct{ StatusCode int }
	if err := json.NewDecoder(resp.Body).Decode(&wr); err != nil || wr.StatusCode != 137 {
		t.Fatalf("wait body: %+v %v", wr, err)
	}
}

// TestAttachHijack checks the exact upgrade head, stdcopy framing, raw
// stdin with a half-close, and a plain 404 before any upgrade.
func TestAttachHijack(t *testing.T) {
	ts := startServer(t)
	ts.do(t, "POST", "/v1.41/containers/create?name=cc", `{"Image":"busybox:local","Cmd":["cat"],"OpenStdin":true,"StdinOnce":true}`)

	conn, err := net.Dial("unix", ts.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "POST /v1.41/containers/cc/attach?stdin=1&stdout=1&stderr=1&stream=1 HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
	br := bufio.NewReader(conn)
	status, _ := br.ReadString('\n')
	if status != "HTTP/1.1 101 UPGRADED\r\n" {
		t.Fatalf("status line %q", status)
	}
	head := map[string]string{}
	for {
		l, _ := br.ReadString('\n')
		if l == "\r\n" || l == "" {
			break
		}
		k, v, _ := strings.Cut(strings.TrimSpace(l), ": ")
		head[k] = v
	}
	if head["Content-Type"] != "application/vnd.docker.raw-stream" || head["Connection"] != "Upgrade" || head["Upgrade"] != "tcp" {
		t.Errorf("upgrade head %v", head)
	}
	ts.do(t, "POST", "/v1.41/containers/cc/start", "")
	io.WriteString(conn, "ping\n")
	conn.(*net.UnixConn).CloseWrite()
	var out, errOut strings.Builder
	if _, err := stdcopy.StdCopy(&out, &errOut, br); err != nil {
		t.Fatal(err)
	}
	if out.String() != "ping\n" {
		t.Errorf("attach output %q", out.String())
	}

	c2, err := net.Dial("unix", ts.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	io.WriteString(c2, "POST /v1.41/containers/nosuch/attach?stdout=1&stream=1 HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c2), nil)
	if err != nil || resp.StatusCode != 404 {
		t.Fatalf("attach to missing container: %v %v", resp, err)
	}
}

// A client that keeps sending on an attach without stdin (a terminal's
// keystrokes, say) still reads the whole output and a clean EOF when the
// container ends: the server reads and drops what it sent instead of
// closing on unread bytes, which would reset the connection.
func TestAttachEndsCleanlyWithUnreadInput(t *testing.T) {
	ts := startServer(t)
	ts.do(t, "POST", "/v1.41/containers/create?name=ln", `{"Image":"busybox:local","Cmd":["sh","-c","sleep 0.2; echo done"]}`)
	conn, err := net.Dial("unix", ts.sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "POST /v1.41/containers/ln/attach?stdout=1&stderr=1&stream=1 HTTP/1.1\r\nHost: d\r\nContent-Length: 0\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("attach: %v %v", resp, err)
	}
	ts.do(t, "POST", "/v1.41/containers/ln/start", "")
	io.WriteString(conn, "typed while it ran\n")
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var out, errOut strings.Builder
	if _, err := stdcopy.StdCopy(&out, &errOut, br); err != nil {
		t.Fatalf("reading the attach stream: %v (output so far %q)", err, out.String())
	}
	if out.String() != "done\n" {
		t.Errorf("attach output %q, want done", out.String())
	}
}

func TestMetricsByRoutePattern(t *testing.T) {
	ts := startServer(t)
	reg := prometheus.NewRegistry()
	reg.MustRegister(ts.srv.Collectors()...)
	ts.do(t, "GET", "/v1.41/containers/nosuch/json", "")
	ts.do(t, "GET", "/v1.41/containers/other/json", "")
	ts.do(t, "HEAD", "/_ping", "")
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			labels := map[string]string{}
			for _, l := range m.GetLabel() {
				labels[l.GetName()] = l.GetValue()
			}
			key := mf.GetName() + " " + labels["method"] + " " + labels["route"] + " " + labels["code"]
			if c := m.GetCounter(); c != nil {
				found[key] = c.GetValue()
			}
			if h := m.GetHistogram(); h != nil {
				found[key] = float64(h.GetSampleCount())
			}
		}
	}
	for key, want := range map[string]float64{
		"reconciler_api_requests_total GET /containers/{id}/json 404":        2,
		"reconciler_api_requests_total HEAD /_ping 200":                      1,
		"reconciler_api_request_duration_seconds GET /containers/{id}/json ": 2,
	} {
		if found[key] != want {
			t.Errorf("%s = %v, want %v (have %v)", key, found[key], want, found)
		}
	}
}

// TestShutdownEndsStreams: open streams (events, wait, logs -f) do not
// hold a shutting-down server.
func TestShutdownEndsStreams(t *testing.T) {
	ts := startServer(t)
	ts.do(t, "POST", "/v1.41/containers/create?name=ss", `{"Image":"busybox:local","Cmd":["sleep","100"]}`)
	ts.do(t, "POST", "/v1.41/containers/ss/start", "")
	for _, path := range []string{"/v1.41/events", "/v1.41/containers/ss/wait", "/v1.41/containers/ss/logs?follow=1&stdout=1"} {
		method := "GET"
		if strings.HasSuffix(path, "wait") {
			method = "POST"
		}
		req, _ := http.NewRequest(method, "http://d"+path, nil)
		resp, err := ts.client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := ts.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Shutdown took %v with open streams", d)
	}
}
