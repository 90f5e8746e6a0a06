// Package certs makes and loads the certificates of a mutual-TLS Docker API
// endpoint (port 2376 by convention) under Docker's file names, so that
// `DOCKER_CERT_PATH=DIR docker --tlsverify -H tcp://HOST:2376` just works.
//
// Keys are ECDSA P-256. The server demands and verifies a client
// certificate signed by the CA; there is no other way in.
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/reconciler/reconciler/internal/atomicfile"
)

// Docker's file names inside a cert directory (DOCKER_CERT_PATH).
const (
	CAFile         = "ca.pem"
	CAKeyFile      = "ca-key.pem"
	ServerCertFile = "server-cert.pem"
	ServerKeyFile  = "server-key.pem"
	ClientCertFile = "cert.pem"
	ClientKeyFile  = "key.pem"
)

// Validity is the time span a certificate is valid in.
type Validity struct{ NotBefore, NotAfter time.Time }

// ValidFor is a validity starting an hour ago (tolerating clock skew) and
// lasting days.
func ValidFor(days int) Validity {
	now := time.Now()
	return Validity{NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(0, 0, days)}
}

// Authority is a certificate authority with its private key.
type Authority struct {
	Cert *x509.Certificate
	Key  *ecdsa.PrivateKey
}

// NewAuthority makes a self-signed CA.
func NewAuthority(name string, v Validity) (*Authority, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl, err := template(name, v, &key.PublicKey)
	if err != nil {
		return nil, err
	}
	tmpl.IsCA = true
	tmpl.BasicConstraintsValid = true
	tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Authority{Cert: cert, Key: key}, nil
}

// IssueServer makes a server certificate for the given DNS names and IPs.
func (a *Authority) IssueServer(name string, hosts []string, ips []net.IP, v Validity) (certPEM, keyPEM []byte, err error) {
	return a.issue(name, v, x509.ExtKeyUsageServerAuth, hosts, ips)
}

// IssueClient makes a client certificate (ExtKeyUsage ClientAuth).
func (a *Authority) IssueClient(name string, v Validity) (certPEM, keyPEM []byte, err error) {
	return a.issue(name, v, x509.ExtKeyUsageClientAuth, nil, nil)
}

// CertPEM is the CA certificate in PEM form (ca.pem).
func (a *Authority) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.Cert.Raw})
}

// KeyPEM is the CA key in PEM form (ca-key.pem).
func (a *Authority) KeyPEM() ([]byte, error) { return keyPEM(a.Key) }

func (a *Authority) issue(name string, v Validity, usage x509.ExtKeyUsage, hosts []string, ips []net.IP) ([]byte, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl, err := template(name, v, &key.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	tmpl.ExtKeyUsage = []x509.ExtKeyUsage{usage}
	tmpl.DNSNames = hosts
	tmpl.IPAddresses = ips
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.Cert, &key.PublicKey, a.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("create certificate %q: %w", name, err)
	}
	kp, err := keyPEM(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), kp, nil
}

func template(name string, v Validity, pub *ecdsa.PublicKey) (*x509.Certificate, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, err
	}
	ski := sha256.Sum256(pubDER)
	return &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: name, Organization: []string{"reconciler"}},
		NotBefore:    v.NotBefore,
		NotAfter:     v.NotAfter,
		SubjectKeyId: ski[:20],
	}, nil
}

func keyPEM(k *ecdsa.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
}

// InitOptions configures Init.
type InitOptions struct {
	Hosts []string // DNS names of the server, besides "localhost"
	IPs   []net.IP // IP addresses of the server, besides 127.0.0.1 and ::1
	Days  int      // validity of every certificate; 0 means 365
	Force bool     // overwrite existing files
}

// Init writes a CA, a server and a client certificate into dir under
// Docker's file names: keys 0600, certificates 0644, dir 0700. It refuses
// to overwrite any existing file unless o.Force.
func Init(dir string, o InitOptions) error {
	if o.Days <= 0 {
		o.Days = 365
	}
	names := []string{CAFile, CAKeyFile, ServerCertFile, ServerKeyFile, ClientCertFile, ClientKeyFile}
	if !o.Force {
		for _, n := range names {
			if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
				return fmt.Errorf("%s already exists; use --force to replace the certificates in %s", filepath.Join(dir, n), dir)
			}
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		return err
	}
	v := ValidFor(o.Days)
	ca, err := NewAuthority("reconciler CA", v)
	if err != nil {
		return err
	}
	hosts := appendMissing(o.Hosts, "localhost")
	ips := o.IPs
	for _, ip := range []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback} {
		if !containsIP(ips, ip) {
			ips = append(ips, ip)
		}
	}
	srvCert, srvKey, err := ca.IssueServer(hosts[0], hosts, ips, v)
	if err != nil {
		return err
	}
	cliCert, cliKey, err := ca.IssueClient("client", v)
	if err != nil {
		return err
	}
	caKey, err := ca.KeyPEM()
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{CAFile, ca.CertPEM(), 0o644}, {CAKeyFile, caKey, 0o600},
		{ServerCertFile, srvCert, 0o644}, {ServerKeyFile, srvKey, 0o600},
		{ClientCertFile, cliCert, 0o644}, {ClientKeyFile, cliKey, 0o600},
	}
	for _, f := range files {
		if err := atomicfile.WriteFile(filepath.Join(dir, f.name), f.data, f.mode); err != nil {
			return err
		}
	}
	return nil
}

func appendMissing(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(append([]string(nil), list...), s)
}

func containsIP(list []net.IP, ip net.IP) bool {
	for _, x := range list {
		if x.Equal(ip) {
			return true
		}
	}
	return false
}

// LoadAuthority reads a CA written by Init (ca.pem, ca-key.pem), to issue
// more certificates from it.
func LoadAuthority(certFile, keyFile string) (*Authority, error) {
	kp, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("load CA: %w", err)
	}
	cert, err := x509.ParseCertificate(kp.Certificate[0])
	if err != nil {
		return nil, err
	}
	key, ok := kp.PrivateKey.(*ecdsa.PrivateKey)
	if !ok || !cert.IsCA {
		return nil, fmt.Errorf("%s is not an ECDSA CA certificate", certFile)
	}
	return &Authority{Cert: cert, Key: key}, nil
}
