package redistest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Timeouts shared by every process this package starts.
const (
	// readyTimeout bounds the wait for a new process to answer PING.
	readyTimeout = 10 * time.Second
	// stopTimeout is how long stop waits after SIGTERM before SIGKILL.
	stopTimeout = 10 * time.Second
	// pollInterval is the pause between two readiness probes.
	pollInterval = 20 * time.Millisecond
	// portAttempts is how many free ports a start tries before giving up.
	portAttempts = 5
)

// errAddrInUse reports that a process could not bind its port; the caller
// retries on another port.
var errAddrInUse = errors.New("address already in use")

// lookBinary finds name in PATH, or explains how to install it.
func lookBinary(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("redistest: %s not found in PATH (%v); install with: %s (make test installs them)", name, err, InstallHint)
	}
	return path, nil
}

// checkModule verifies that the RediSearch module file exists.
func checkModule() error {
	if _, err := os.Stat(ModulePath); err != nil {
		return fmt.Errorf("redistest: RediSearch module %s not found (%v); install with: %s (make test installs them)", ModulePath, err, InstallHint)
	}
	return nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("redistest: picking a free port: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		return 0, fmt.Errorf("redistest: picking a free port: %w", err)
	}
	return port, nil
}

// ClosedAddr returns a loopback "host:port" nothing listens on (a port that
// was free a moment ago), for specs of an unreachable server. It fails t
// on error.
func ClosedAddr(t TB) string {
	t.Helper()
	port, err := freePort()
	if err != nil {
		t.Fatalf("%v", err)
	}
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
}

// onFreePort calls start with fresh free ports until it succeeds, fails
// with an error other than errAddrInUse, or portAttempts ports were tried.
func onFreePort(t TB, start func(port int) error) error {
	t.Helper()
	var err error
	for range portAttempts {
		var port int
		if port, err = freePort(); err != nil {
			return err
		}
		if err = start(port); !errors.Is(err, errAddrInUse) {
			return err
		}
		t.Logf("redistest: port %d taken, retrying on another one", port)
	}
	return err
}

// process is one child process started by this package. Its standard
// output and error go to stdioPath; the server log (when the caller points
// the server's logfile at it) to logPath.
type process struct {
	name      string
	cmd       *exec.Cmd
	done      chan struct{} // closed when the process has exited
	waitErr   error         // set before done is closed
	logPath   string
	stdioPath string
}

// startProcess runs bin with args in dir. logPath is the file the process
// writes its log to (read for diagnostics only); stdout and stderr go to
// <dir>/<base of bin>.stdio. The process gets SIGKILL if the test binary
// dies (Linux).
func startProcess(bin string, args []string, dir, logPath string) (*process, error) {
	name := filepath.Base(bin)
	stdioPath := filepath.Join(dir, name+".stdio")
	stdio, err := os.OpenFile(stdioPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("redistest: %w", err)
	}
	defer stdio.Close() // the child keeps its own descriptor

	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Stdout = stdio
	cmd.Stderr = stdio
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("redistest: starting %s: %w", name, err)
	}
	p := &process{
		name:      name,
		cmd:       cmd,
		done:      make(chan struct{}),
		logPath:   logPath,
		stdioPath: stdioPath,
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// kill sends SIGKILL and waits for the process to end.
func (p *process) kill() {
	if !p.exited() {
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
	}
	<-p.done
}

// stop sends SIGTERM, waits up to timeout, then kills.
func (p *process) stop(timeout time.Duration) {
	if p.exited() {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.kill()
	}
}

// addrInUse reports whether the process logged that its port was taken.
func (p *process) addrInUse() bool {
	for _, path := range []string{p.logPath, p.stdioPath} {
		if data, err := os.ReadFile(path); err == nil && bytes.Contains(data, []byte("Address already in use")) {
			return true
		}
	}
	return false
}

// logTail returns the last lines of the process' log and output, for
// failure messages.
func (p *process) logTail() string {
	var b strings.Builder
	for _, path := range []string{p.logPath, p.stdioPath} {
		if path == "" {
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil || len(bytes.TrimSpace(data)) == 0 {
			continue
		}
		fmt.Fprintf(&b, "\n--- tail of %s ---\n%s", path, tail(string(data), 30))
	}
	if b.Len() == 0 {
		return "\n(no log output)"
	}
	return b.String()
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// waitReady polls addr with PING (after AUTH when password is set) until it
// answers PONG, the process exits, or timeout passes. An exit caused by a
// taken port is reported as errAddrInUse.
func waitReady(p *process, addr, password string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	var lastErr error
	for {
		if p.exited() {
			if p.addrInUse() {
				return errAddrInUse
			}
			return fmt.Errorf("redistest: %s exited before answering PING (%v)%s", p.name, p.waitErr, p.logTail())
		}
		reply, err := do(addr, password, time.Second, "PING")
		if err == nil && reply == "PONG" {
			// Make sure the answer came from our process, not from
			// another one that grabbed the port first.
			if reply, err = do(addr, password, time.Second, "INFO", "server"); err == nil {
				if strings.Contains(reply, fmt.Sprintf("process_id:%d\r\n", p.cmd.Process.Pid)) {
					return nil
				}
				err = fmt.Errorf("%s is answered by another process", addr)
			}
		} else if err == nil {
			err = fmt.Errorf("unexpected PING reply %q", reply)
		}
		lastErr = err
		if time.Now().After(deadline) {
			return fmt.Errorf("redistest: %s on %s did not answer PING within %v (last error: %v)%s", p.name, addr, timeout, lastErr, p.logTail())
		}
		time.Sleep(pollInterval)
	}
}
