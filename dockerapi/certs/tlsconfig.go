package certs

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// ErrNoClientCert is returned by ClientConfig when the client certificate
// or key is missing.
var ErrNoClientCert = errors.New("no client certificate")

// ServerConfig is the TLS configuration of a --tlsverify listener: TLS 1.2
// or later, and a client certificate signed by caFile is required and
// verified before any HTTP is spoken.
func ServerConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	pool, err := loadPool(caFile)
	if err != nil {
		return nil, err
	}
	cert, err := loadPair(certFile, keyFile, "--tlscert", "--tlskey")
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAndVerifyClientCert,
		ClientCAs:    pool,
	}, nil
}

// ClientConfig is the TLS configuration to reach a --tlsverify endpoint:
// the server must present a certificate signed by caFile, and the client
// presents certFile/keyFile. Both are required; a missing client
// certificate is an error wrapping ErrNoClientCert, never a silent fallback.
func ClientConfig(caFile, certFile, keyFile string) (*tls.Config, error) {
	pool, err := loadPool(caFile)
	if err != nil {
		return nil, err
	}
	if certFile == "" || keyFile == "" {
		return nil, fmt.Errorf("%w: give both the client certificate and key (cert.pem and key.pem)", ErrNoClientCert)
	}
	cert, err := loadPair(certFile, keyFile, "client certificate", "client key")
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		RootCAs:      pool,
		Certificates: []tls.Certificate{cert},
	}, nil
}

func loadPool(caFile string) (*x509.CertPool, error) {
	if caFile == "" {
		return nil, fmt.Errorf("no CA certificate given (--tlscacert, ca.pem)")
	}
	b, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("read CA certificate: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("CA certificate %s: no PEM certificate found", caFile)
	}
	return pool, nil
}

func loadPair(certFile, keyFile, certWhat, keyWhat string) (tls.Certificate, error) {
	if certFile == "" || keyFile == "" {
		return tls.Certificate{}, fmt.Errorf("TLS needs both %s and %s", certWhat, keyWhat)
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("load TLS key pair %s, %s: %w", certFile, keyFile, err)
	}
	return cert, nil
}
