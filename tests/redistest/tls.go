package redistest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// CA is a certificate authority made for one test, with crypto/x509 (no
// openssl binary): it signs the certificates of the servers started
// WithTLS and of the clients that authenticate with one.
type CA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string // PEM of cert
}

// KeyPair is a certificate issued by a CA and its private key, as PEM files.
type KeyPair struct {
	CertFile, KeyFile string
}

// Certificate loads the key pair, for tls.Config.Certificates.
func (kp KeyPair) Certificate() (tls.Certificate, error) {
	return tls.LoadX509KeyPair(kp.CertFile, kp.KeyFile)
}

// NewCA makes a CA valid for a day, its certificate written to a PEM file
// in a t.TempDir (File). It fails t on error.
func NewCA(t TB) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("redistest: CA key: %v", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial(t),
		Subject:               pkix.Name{CommonName: "redistest CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("redistest: CA certificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("redistest: CA certificate: %v", err)
	}
	ca := &CA{cert: cert, key: key, file: filepath.Join(t.TempDir(), "ca.pem")}
	writePEM(t, ca.file, "CERTIFICATE", der)
	return ca
}

// File returns the path of the CA certificate (PEM), for
// --tls-ca-cert-file or fxmodule.Config.TLSCAFile.
func (ca *CA) File() string { return ca.file }

// Pool returns a pool holding the CA certificate, for tls.Config.RootCAs.
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// ClientConfig returns a client TLS configuration that trusts the CA only.
func (ca *CA) ClientConfig() *tls.Config {
	return &tls.Config{RootCAs: ca.Pool(), MinVersion: tls.VersionTLS12}
}

// Issue makes a certificate signed by the CA for hosts (IP addresses or
// DNS names), usable by a server and as a client certificate, and writes
// it and its key to PEM files in a t.TempDir. It fails t on error.
func (ca *CA) Issue(t TB, name string, hosts ...string) KeyPair {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatalf("redistest: key of %s: %v", name, err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial(t),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		// Redis presents its server certificate as a client one too
		// (replication, sentinels talking to the nodes).
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatalf("redistest: certificate of %s: %v", name, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("redistest: key of %s: %v", name, err)
	}
	dir := t.TempDir()
	kp := KeyPair{CertFile: filepath.Join(dir, name+".crt"), KeyFile: filepath.Join(dir, name+".key")}
	writePEM(t, kp.CertFile, "CERTIFICATE", der)
	writePEM(t, kp.KeyFile, "PRIVATE KEY", keyDER)
	return kp
}

func serial(t TB) *big.Int {
	t.Helper()
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		t.Fatalf("redistest: serial number: %v", err)
	}
	return n
}

func writePEM(t TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatalf("redistest: %v", err)
	}
}

// tlsArgs are the redis-server (or sentinel.conf) settings of a TLS
// listener on port with kp, trusting ca, requiring client certificates when
// authClients. Outgoing connections (replication, a sentinel's) use TLS too
// (tls-replication), and a replica announces its TLS port.
func tlsArgs(port int, kp KeyPair, ca *CA, authClients bool) [][2]string {
	auth := "no"
	if authClients {
		auth = "yes"
	}
	return [][2]string{
		{"tls-port", strconv.Itoa(port)},
		{"tls-cert-file", kp.CertFile},
		{"tls-key-file", kp.KeyFile},
		{"tls-ca-cert-file", ca.File()},
		{"tls-auth-clients", auth},
		{"tls-replication", "yes"},
	}
}
