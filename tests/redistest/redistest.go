// Package redistest starts throw-away redis-server processes on loopback
// ports for tests and stops them when the test ends.
//
// Tests that need Redis never skip: when redis-server (or the RediSearch
// module) is not installed, StartServer fails the test with the command that
// installs it. Every process runs in its own t.TempDir, listens on a free
// 127.0.0.1 port, keeps nothing on disk, and is stopped by its own PID in a
// t.Cleanup; on Linux it is also killed if the test binary dies.
//
// The package uses only the standard library: it speaks just enough RESP
// to wait for PING and to send one-off commands (Server.Do), and makes the
// certificate authority and certificates of TLS servers with crypto/x509
// (NewCA, WithTLS).
package redistest

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// ModulePath is where Debian's redis-redisearch package installs the
// RediSearch module that WithModule loads.
const ModulePath = "/usr/lib/redis/modules/redisearch.so"

// InstallHint is the command that installs every binary this package runs.
const InstallHint = "apt-get install -y redis-server redis-sentinel redis-redisearch"

// serverBinary is the program StartServer runs.
const serverBinary = "redis-server"

// TB is the part of testing.TB this package uses. *testing.T, *testing.B and
// ginkgo's GinkgoT() satisfy it.
type TB interface {
	Helper()
	TempDir() string
	Cleanup(func())
	Fatalf(format string, args ...any)
	Logf(format string, args ...any)
}

// Option configures StartServer.
type Option func(*serverOptions)

// serverOptions collects what the options ask for.
type serverOptions struct {
	module    bool
	password  string
	replicaOf string
	args      []string

	// TLS (tls.go).
	tlsCA          *CA
	tlsAuthClients bool

	// Topology options (StartSentinel only, see sentinel.go).
	sentinelPassword string
	sentinels        int           // 0: defaultSentinels
	replicas         int           // negative: none; 0: defaultReplicas
	downAfter        time.Duration // 0: defaultDownAfter
}

// WithModule loads the RediSearch module from ModulePath.
func WithModule() Option {
	return func(o *serverOptions) { o.module = true }
}

// WithArgs appends extra redis-server arguments, for example
// WithArgs("--unixsocket", path).
func WithArgs(args ...string) Option {
	return func(o *serverOptions) { o.args = append(o.args, args...) }
}

// WithPassword protects the server with requirepass. A replica started with
// both WithPassword and WithReplicaOf uses the same password as masterauth.
func WithPassword(pw string) Option {
	return func(o *serverOptions) { o.password = pw }
}

// WithReplicaOf makes the server a replica of the server at addr
// ("host:port").
func WithReplicaOf(addr string) Option {
	return func(o *serverOptions) { o.replicaOf = addr }
}

// WithTLS makes the server listen with TLS too, on a second free port
// (TLSAddr), with a certificate for 127.0.0.1 and localhost issued by ca;
// the plain port stays, for this package's own commands (Do). Replication
// uses TLS (tls-replication yes), so a replica of a TLS server is given its
// TLSAddr. Client certificates are not required unless WithTLSClientAuth.
// For StartSentinel it applies to every data node and every sentinel.
func WithTLS(ca *CA) Option {
	return func(o *serverOptions) { o.tlsCA = ca }
}

// WithTLSClientAuth makes the TLS port require a client certificate issued
// by the CA of WithTLS (tls-auth-clients yes): mutual TLS.
func WithTLSClientAuth() Option {
	return func(o *serverOptions) { o.tlsAuthClients = true }
}

// Server is a redis-server process started by StartServer. Its methods are
// safe for concurrent use.
type Server struct {
	port     int
	tlsPort  int // 0: no TLS
	dir      string
	bin      string
	args     []string // everything but --port
	password string

	mu   sync.Mutex
	proc *process
}

// StartServer starts a redis-server on a free loopback port, waits until it
// answers PING, and registers its shutdown with t.Cleanup. It fails the test
// when the server cannot be started.
func StartServer(t TB, opts ...Option) *Server {
	t.Helper()
	var o serverOptions
	for _, opt := range opts {
		opt(&o)
	}
	bin, err := lookBinary(serverBinary)
	if err != nil {
		t.Fatalf("%v", err)
	}
	if o.module {
		if err := checkModule(); err != nil {
			t.Fatalf("%v", err)
		}
	}
	dir := t.TempDir()
	args := []string{
		"--bind", "127.0.0.1",
		"--save", "",
		"--appendonly", "no",
		"--dir", dir,
		"--logfile", filepath.Join(dir, "redis.log"),
		"--daemonize", "no",
	}
	if o.module {
		args = append(args, "--loadmodule", ModulePath)
	}
	if o.password != "" {
		args = append(args, "--requirepass", o.password)
	}
	if o.replicaOf != "" {
		host, port, err := net.SplitHostPort(o.replicaOf)
		if err != nil {
			t.Fatalf("redistest: WithReplicaOf(%q): %v", o.replicaOf, err)
		}
		args = append(args, "--replicaof", host, port)
		if o.password != "" {
			args = append(args, "--masterauth", o.password)
		}
	}
	if o.tlsCA != nil {
		kp := o.tlsCA.Issue(t, "redis-server", "127.0.0.1", "localhost")
		for _, kv := range tlsArgs(0, kp, o.tlsCA, o.tlsAuthClients)[1:] { // the port comes in launch
			args = append(args, "--"+kv[0], kv[1])
		}
	}
	args = append(args, o.args...)

	s := &Server{dir: dir, bin: bin, args: args, password: o.password}
	err = onFreePort(t, func(port int) error {
		s.port = port
		if o.tlsCA != nil {
			var err error
			if s.tlsPort, err = freePort(); err != nil {
				return err
			}
		}
		return s.launch()
	})
	if err != nil {
		t.Fatalf("redistest: starting %s: %v", serverBinary, err)
	}
	t.Cleanup(s.Stop)
	t.Logf("redistest: %s listening on %s (dir %s)", serverBinary, s.Addr(), dir)
	return s
}

// launch starts the process on s.port and waits until it is ready. On
// failure nothing is left running.
func (s *Server) launch() error {
	args := []string{"--port", strconv.Itoa(s.port)}
	if s.tlsPort != 0 {
		args = append(args, "--tls-port", strconv.Itoa(s.tlsPort))
	}
	args = append(args, s.args...)
	p, err := startProcess(s.bin, args, s.dir, filepath.Join(s.dir, "redis.log"))
	if err != nil {
		return err
	}
	if err := waitReady(p, s.Addr(), s.password, readyTimeout); err != nil {
		p.kill()
		return err
	}
	s.mu.Lock()
	s.proc = p
	s.mu.Unlock()
	return nil
}

// Addr returns "127.0.0.1:port".
func (s *Server) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.port)) }

// Port returns the TCP port the server listens on.
func (s *Server) Port() int { return s.port }

// TLSAddr returns "127.0.0.1:port" of the TLS port of a server started
// WithTLS, or "" for a server without TLS.
func (s *Server) TLSAddr() string {
	if s.tlsPort == 0 {
		return ""
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.tlsPort))
}

// TLSPort returns the TLS port of a server started WithTLS, or 0.
func (s *Server) TLSPort() int { return s.tlsPort }

// replPort is the port replicas and sentinels reach the server on (and
// that it announces as a replica): the TLS port when it has one.
func (s *Server) replPort() int {
	if s.tlsPort != 0 {
		return s.tlsPort
	}
	return s.port
}

// replAddr is "127.0.0.1:replPort".
func (s *Server) replAddr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(s.replPort())) }

// URL returns "redis://127.0.0.1:port", with ":password@" before the host
// when the server was started WithPassword.
func (s *Server) URL() string {
	if s.password != "" {
		return "redis://:" + s.password + "@" + s.Addr()
	}
	return "redis://" + s.Addr()
}

// Dir returns the server's working directory (a t.TempDir), which holds its
// log file redis.log.
func (s *Server) Dir() string { return s.dir }

// Kill ends the server with SIGKILL, as a crash would, and waits for it.
func (s *Server) Kill() {
	if p := s.current(); p != nil {
		p.kill()
	}
}

// Stop ends the server with SIGTERM, waits up to 10 seconds, then kills it.
// Stopping a stopped server does nothing.
func (s *Server) Stop() {
	if p := s.current(); p != nil {
		p.stop(stopTimeout)
	}
}

// Restart starts the server again on the same port with the same arguments
// (after stopping it if it still runs) and waits until it answers PING.
// The data set is empty afterwards. It fails t when the server does not
// come back.
func (s *Server) Restart(t TB) {
	t.Helper()
	s.Stop()
	var err error
	// The port was ours a moment ago; if it is briefly unavailable, wait.
	for attempt := range portAttempts {
		if err = s.launch(); !errors.Is(err, errAddrInUse) {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 100 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("redistest: restarting %s on %s: %v", serverBinary, s.Addr(), err)
	}
}

// Do sends one command over a fresh connection (authenticating first when
// the server has a password) and returns the reply as text: a status,
// integer or bulk string as is, a nil reply as "", an array as its elements
// joined by newlines. An error reply is returned as an error. It is meant
// for test set-up and fault injection: CONFIG SET, CLIENT KILL, FLUSHALL,
// DEBUG SLEEP and the like. The exchange is bounded by one minute.
func (s *Server) Do(args ...string) (string, error) {
	return do(s.Addr(), s.password, time.Minute, args...)
}

// String describes the server for logs.
func (s *Server) String() string {
	return fmt.Sprintf("%s %s", serverBinary, s.Addr())
}

// current returns the running (or last) process.
func (s *Server) current() *process {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc
}
