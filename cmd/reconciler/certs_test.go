package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// execRoot runs the root command in process and returns its output and error.
func execRoot(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestCertsInitCommand(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "certs")
	out, err := execRoot(t, "certs", "init", dir, "--hostname", "node1", "--ip", "10.0.0.7", "--days", "10")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "--tlscacert "+dir+"/ca.pem") || !strings.Contains(out, "DOCKER_CERT_PATH="+dir) {
		t.Errorf("output does not say how to use the files:\n%s", out)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "server-cert.pem"))
	blk, _ := pem.Decode(b)
	cert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if cert.VerifyHostname("node1") != nil || cert.VerifyHostname("10.0.0.7") != nil || cert.VerifyHostname("localhost") != nil {
		t.Errorf("server certificate SANs: %v %v", cert.DNSNames, cert.IPAddresses)
	}
	if _, err := execRoot(t, "certs", "init", dir); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Errorf("overwrite without --force: %v", err)
	}
	var ee *exitError
	if _, err := execRoot(t, "certs", "init", t.TempDir(), "--ip", "not-an-ip"); !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("bad --ip: %v", err)
	}
}
