package certs

import (
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestInitWritesDockerLayout(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	if err := Init(dir, InitOptions{Hosts: []string{"node1.example"}, IPs: []net.IP{net.ParseIP("10.1.2.3")}, Days: 30}); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(dir); fi.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, want 0700", fi.Mode().Perm())
	}
	want := map[string]os.FileMode{CAFile: 0o644, CAKeyFile: 0o600, ServerCertFile: 0o644, ServerKeyFile: 0o600, ClientCertFile: 0o644, ClientKeyFile: 0o600}
	for name, mode := range want {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s mode %v, want %v", name, fi.Mode().Perm(), mode)
		}
	}
	srv := readCert(t, filepath.Join(dir, ServerCertFile))
	for _, h := range []string{"node1.example", "localhost"} {
		if err := srv.VerifyHostname(h); err != nil {
			t.Errorf("server cert: %v", err)
		}
	}
	for _, ip := range []string{"10.1.2.3", "127.0.0.1"} {
		if err := srv.VerifyHostname(ip); err != nil {
			t.Errorf("server cert: %v", err)
		}
	}
	ca := readCert(t, filepath.Join(dir, CAFile))
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	cli := readCert(t, filepath.Join(dir, ClientCertFile))
	if _, err := cli.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		t.Errorf("client cert does not verify for client auth: %v", err)
	}
	if _, err := srv.Verify(x509.VerifyOptions{Roots: pool, DNSName: "localhost"}); err != nil {
		t.Errorf("server cert does not verify: %v", err)
	}
	if _, err := ServerConfig(filepath.Join(dir, CAFile), filepath.Join(dir, ServerCertFile), filepath.Join(dir, ServerKeyFile)); err != nil {
		t.Error(err)
	}

	err := Init(dir, InitOptions{})
	if err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("second Init: %v, want refusal mentioning --force", err)
	}
	if err := Init(dir, InitOptions{Force: true}); err != nil {
		t.Fatalf("Init --force: %v", err)
	}
	if readCert(t, filepath.Join(dir, CAFile)).Equal(ca) {
		t.Error("--force did not replace the CA")
	}
}

func TestClientConfigNeedsCert(t *testing.T) {
	dir := t.TempDir()
	if err := Init(dir, InitOptions{}); err != nil {
		t.Fatal(err)
	}
	_, err := ClientConfig(filepath.Join(dir, CAFile), "", "")
	if err == nil || !strings.Contains(err.Error(), "client certificate") {
		t.Fatalf("got %v", err)
	}
	if _, err := ClientConfig(filepath.Join(dir, CAFile), filepath.Join(dir, ClientCertFile), filepath.Join(dir, ClientKeyFile)); err != nil {
		t.Fatal(err)
	}
}

func readCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil {
		t.Fatalf("%s: no PEM", path)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
