package listen

import (
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reconciler/reconciler/dockerapi/certs"
)

func serveOK(t *testing.T, l net.Listener) {
	t.Helper()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "OK") })}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
}

func TestUnixSocketModeAndStaleRemoval(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "run", "r.sock")
	l, err := Listen("unix://"+sock, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(sock)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o660 {
		t.Errorf("socket mode %v, want 0660", fi.Mode().Perm())
	}
	if di, _ := os.Stat(filepath.Dir(sock)); di.Mode().Perm() != 0o755 {
		t.Errorf("dir mode %v, want 0755", di.Mode().Perm())
	}
	serveOK(t, l)
	if _, err := Listen("unix://"+sock, Options{}); err == nil || !strings.Contains(err.Error(), "already answering") {
		t.Fatalf("second listener on a live socket: %v", err)
	}

	// A socket file nobody answers on is stale and replaced.
	stale := filepath.Join(t.TempDir(), "stale.sock")
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ul.SetUnlinkOnClose(false)
	ul.Close()
	l2, err := Listen("unix://"+stale, Options{})
	if err != nil {
		t.Fatalf("stale socket not replaced: %v", err)
	}
	l2.Close()

	notSock := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notSock, nil, 0o644)
	if _, err := Listen("unix://"+notSock, Options{}); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("regular file: %v", err)
	}
}

func TestPlainTCPLoopbackOnly(t *testing.T) {
	_, err := Listen("tcp://0.0.0.0:0", Options{})
	if err == nil || !strings.Contains(err.Error(), "--tlsverify") || !strings.Contains(err.Error(), "--insecure-tcp") {
		t.Fatalf("non-loopback plain TCP: %v", err)
	}
	var warned string
	l, err := Listen("tcp://0.0.0.0:0", Options{InsecureTCP: true, Warn: func(s string) { warned = s }})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	if !strings.Contains(warned, "WARNING") {
		t.Errorf("no loud warning: %q", warned)
	}
	l, err = Listen("tcp://127.0.0.1:0", Options{})
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	for _, addr := range []string{"tcp://localhost:0", "tcp://[::1]:0"} {
		l, err := Listen(addr, Options{})
		if err != nil {
			if strings.Contains(err.Error(), "cannot assign requested address") {
				continue // no IPv6 loopback on this machine
			}
			t.Errorf("%s is loopback: %v", addr, err)
			continue
		}
		l.Close()
	}
	if _, err := Listen("tcp://:0", Options{}); err == nil {
		t.Error("tcp://:0 (all interfaces) accepted without TLS")
	}
	if _, err := Listen("ftp://x", Options{}); err == nil {
		t.Fatal("ftp scheme accepted")
	}
}

// TestTLSRefusesBadClients: a 2376-style listener answers only clients with
// a valid certificate from its CA.
func TestTLSRefusesBadClients(t *testing.T) {
	dir := t.TempDir()
	if err := certs.Init(dir, certs.InitOptions{}); err != nil {
		t.Fatal(err)
	}
	p := func(n string) string { return filepath.Join(dir, n) }
	srvCfg, err := certs.ServerConfig(p(certs.CAFile), p(certs.ServerCertFile), p(certs.ServerKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	l, err := Listen("tcp://127.0.0.1:0", Options{TLS: srvCfg})
	if err != nil {
		t.Fatal(err)
	}
	serveOK(t, l)
	url := "https://" + l.Addr().String() + "/_ping"

	get := func(cfg *tls.Config) (string, error) {
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
		defer c.CloseIdleConnections()
		resp, err := c.Get(url)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return string(b), err
	}
	good, err := certs.ClientConfig(p(certs.CAFile), p(certs.ClientCertFile), p(certs.ClientKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if body, err := get(good); err != nil || body != "OK" {
		t.Fatalf("valid client: %q, %v", body, err)
	}

	pool := good.RootCAs
	noCert := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	other, _ := certs.NewAuthority("other CA", certs.ValidFor(1))
	otherPair := pair(t, other, certs.ValidFor(1))
	ca := loadCA(t, p(certs.CAFile), p(certs.CAKeyFile))
	expired := pair(t, ca, certs.Validity{NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	tls11 := good.Clone()
	tls11.MinVersion, tls11.MaxVersion = tls.VersionTLS10, tls.VersionTLS11

	for name, cfg := range map[string]*tls.Config{
		"no client certificate":     noCert,
		"certificate of another CA": {RootCAs: pool, Certificates: []tls.Certificate{otherPair}},
		"expired certificate":       {RootCAs: pool, Certificates: []tls.Certificate{expired}},
		"TLS 1.1":                   tls11,
	} {
		if body, err := get(cfg); err == nil {
			t.Errorf("%s: got %q, want refusal", name, body)
		}
	}
}

func pair(t *testing.T, a *certs.Authority, v certs.Validity) tls.Certificate {
	t.Helper()
	c, k, err := a.IssueClient("client", v)
	if err != nil {
		t.Fatal(err)
	}
	kp, err := tls.X509KeyPair(c, k)
	if err != nil {
		t.Fatal(err)
	}
	return kp
}

func loadCA(t *testing.T, certFile, keyFile string) *certs.Authority {
	t.Helper()
	a, err := certs.LoadAuthority(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
