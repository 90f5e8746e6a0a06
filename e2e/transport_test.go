package e2e

import (
	"bufio"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestPlainTCP runs the docker CLI cases over a plain loopback TCP listener.
func TestPlainTCP(t *testing.T) {
	requireE2E(t)
	d := startDaemon(t, newRoot(t), daemonOpts{tcp: true})
	d.clientHost = "tcp://" + d.tcpAddr
	runCLICases(t, d)
}

// TestMutualTLS runs the docker CLI cases over TLS with certificates from
// `reconciler certs init`, and checks the listener turns away a client
// without a certificate, with one from another CA and with an expired one.
func TestMutualTLS(t *testing.T) {
	requireE2E(t)
	certDir := certsInit(t)
	d := startDaemon(t, newRoot(t), daemonOpts{tcp: true, tlsDir: certDir})
	host := "tcp://" + d.tcpAddr

	t.Run("docker-cli", func(t *testing.T) {
		d.clientHost, d.clientEnv = host, []string{"DOCKER_CERT_PATH=" + certDir, "DOCKER_TLS_VERIFY=1"}
		runCLICases(t, d)
	})

	caPEM := readFile(filepath.Join(certDir, "ca.pem"))
	otherDir := certsInit(t)
	expiredCert, expiredKey := expiredClientCert(t, certDir)
	clients := []struct {
		name          string
		cert, key     string // PEM; "" for no client certificate
		wantTLSRefuse bool
		reason        string // the TLS alert the server must send
	}{
		{"valid-certificate", readFile(filepath.Join(certDir, "cert.pem")), readFile(filepath.Join(certDir, "key.pem")), false, ""},
		{"no-certificate", "", "", true, "certificate required"},
		{"certificate-of-another-CA", readFile(filepath.Join(otherDir, "cert.pem")), readFile(filepath.Join(otherDir, "key.pem")), true, "unknown certificate authority"},
		{"expired-certificate", expiredCert, expiredKey, true, "expired certificate"},
	}
	for _, cl := range clients {
		t.Run(cl.name, func(t *testing.T) {
			// The docker CLI trusting our CA, presenting this client certificate.
			dir := t.TempDir()
			writeFile(t, filepath.Join(dir, "ca.pem"), caPEM, 0o644)
			if cl.cert != "" {
				writeFile(t, filepath.Join(dir, "cert.pem"), cl.cert, 0o644)
				writeFile(t, filepath.Join(dir, "key.pem"), cl.key, 0o600)
			}
			c := newCLI(t, host, "DOCKER_CERT_PATH="+dir, "DOCKER_TLS_VERIFY=1")
			r := c.try("version")
			if !cl.wantTLSRefuse {
				if r.Code != 0 || !strings.Contains(r.Out, "Server:") {
					t.Errorf("docker version with a valid client certificate: %s", r)
				}
			} else if r.Code == 0 || strings.Contains(r.Out, "Server:") {
				t.Errorf("docker version got through the TLS listener: %s", r)
			} else if !strings.Contains(r.Err, cl.reason) && !strings.Contains(r.Err, "connection reset by peer") {
				// The CLI sends its request at once; it may see the reset
				// that follows the alert rather than the alert itself.
				t.Errorf("docker version refused, but the user is not told %q: %s", cl.reason, r)
			}
			// The same client in Go: no HTTP answer at all, only a TLS error.
			err := tlsPing(t, d.tcpAddr, caPEM, cl.cert, cl.key)
			switch {
			case !cl.wantTLSRefuse && err != nil:
				t.Errorf("GET /_ping with a valid client certificate: %v", err)
			case cl.wantTLSRefuse && err == nil:
				t.Errorf("GET /_ping over TLS answered a client that must be refused")
			case cl.wantTLSRefuse && !strings.Contains(err.Error(), "tls: "+cl.reason):
				t.Errorf("GET /_ping refused, but not with the TLS alert %q: %v", cl.reason, err)
			case cl.wantTLSRefuse:
				t.Logf("refused as it must be; docker: %s; Go client: %v", strings.TrimSpace(r.Err), err)
			}
		})
	}

	t.Run("plain-http-to-tls-port", func(t *testing.T) {
		r := newCLI(t, host).try("version")
		if r.Code == 0 || strings.Contains(r.Out, "Server:") {
			t.Errorf("plain-HTTP docker version got through the TLS listener: %s", r)
		}
	})
}

// certsInit runs `reconciler certs init` into a new folder and checks the
// files Docker users expect are there, private keys readable by root only.
func certsInit(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "certs")
	out, err := exec.Command(reconcilerBin, "certs", "init", dir).CombinedOutput()
	if err != nil {
		t.Fatalf("reconciler certs init: %v\n%s", err, out)
	}
	for _, name := range []string{"ca.pem", "ca-key.pem", "server-cert.pem", "server-key.pem", "cert.pem", "key.pem"} {
		st, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatalf("reconciler certs init: %v", err)
		}
		if strings.HasSuffix(name, "key.pem") && st.Mode().Perm()&0o077 != 0 {
			t.Errorf("reconciler certs init: private key %s has mode %v, want no access for group and others", name, st.Mode().Perm())
		}
	}
	return dir
}

// expiredClientCert is a client certificate signed by the CA of certDir
// that expired an hour ago.
func expiredClientCert(t *testing.T, certDir string) (certPEM, keyPEM string) {
	t.Helper()
	caCert := parseCert(t, readFile(filepath.Join(certDir, "ca.pem")))
	caKey := parseKey(t, readFile(filepath.Join(certDir, "ca-key.pem")))
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "expired-client"},
		NotBefore:    time.Now().Add(-48 * time.Hour),
		NotAfter:     time.Now().Add(-time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
}

func parseCert(t *testing.T, p string) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode([]byte(p))
	if b == nil {
		t.Fatal("no PEM block in CA certificate")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// parseKey reads a PEM private key in any of the usual encodings.
func parseKey(t *testing.T, p string) crypto.Signer {
	t.Helper()
	b, _ := pem.Decode([]byte(p))
	if b == nil {
		t.Fatal("no PEM block in CA key")
	}
	if k, err := x509.ParsePKCS8PrivateKey(b.Bytes); err == nil {
		return k.(crypto.Signer)
	}
	if k, err := x509.ParseECPrivateKey(b.Bytes); err == nil {
		return k
	}
	k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
	if err != nil {
		t.Fatalf("CA key: not PKCS#8, EC or PKCS#1: %v", err)
	}
	return k
}

// tlsPing connects over TLS trusting caPEM, presenting the client
// certificate if certPEM is set. It first only reads: a server refusing the
// certificate sends its alert and closes, which is the error returned. A
// server that waits for a request instead then gets GET /_ping.
func tlsPing(t *testing.T, addr, caPEM, certPEM, keyPEM string) error {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM([]byte(caPEM))
	cfg := &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	if certPEM != "" {
		pair, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
		if err != nil {
			t.Fatal(err)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, cfg)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("TLS server sent data before any request")
	} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
		return err
	}
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, "GET /_ping HTTP/1.1\r\nHost: e2e\r\nConnection: close\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /_ping over TLS: status %s", resp.Status)
	}
	return nil
}
