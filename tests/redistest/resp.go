package redistest

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// do sends one command (after AUTH when password is set) over a fresh
// connection to addr and returns the reply as text, see Server.Do. The
// whole exchange must finish within timeout.
func do(addr, password string, timeout time.Duration, args ...string) (string, error) {
	var reply string
	err := exchange(addr, password, timeout, args, func(w io.Writer, r *bufio.Reader) (err error) {
		reply, err = roundTrip(w, r, args...)
		return err
	})
	return reply, err
}

// doStrings sends one command like do and returns the elements of its
// array reply as they are, for replies whose elements may contain
// newlines, such as the keys of CLUSTER GETKEYSINSLOT.
func doStrings(addr, password string, timeout time.Duration, args ...string) ([]string, error) {
	var elems []string
	err := exchange(addr, password, timeout, args, func(w io.Writer, r *bufio.Reader) error {
		if err := writeCommand(w, args...); err != nil {
			return err
		}
		line, err := r.ReadString('\n')
		if err != nil {
			return err
		}
		line = strings.TrimSuffix(line, "\r\n")
		switch {
		case strings.HasPrefix(line, "-"):
			return errors.New(line[1:])
		case !strings.HasPrefix(line, "*"):
			return fmt.Errorf("not an array reply: %q", line)
		}
		n, err := strconv.Atoi(line[1:])
		if err != nil {
			return fmt.Errorf("bad array length %q", line)
		}
		for range n {
			e, err := readReply(r)
			if err != nil {
				return err
			}
			elems = append(elems, e)
		}
		return nil
	})
	return elems, err
}

// exchange dials addr, authenticates when password is set and runs talk on
// the connection, all within timeout. Errors name the command.
func exchange(addr, password string, timeout time.Duration, args []string, talk func(io.Writer, *bufio.Reader) error) error {
	if len(args) == 0 {
		return errors.New("redistest: no command")
	}
	conn, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return fmt.Errorf("redistest: %w", err)
	}
	defer conn.Close()
	if err := conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return fmt.Errorf("redistest: %w", err)
	}
	r := bufio.NewReader(conn)
	if password != "" {
		if _, err := roundTrip(conn, r, "AUTH", password); err != nil {
			return fmt.Errorf("redistest: AUTH: %w", err)
		}
	}
	if err := talk(conn, r); err != nil {
		return fmt.Errorf("redistest: %s: %w", strings.ToUpper(args[0]), err)
	}
	return nil
}

// roundTrip writes one command as a RESP array and reads its reply.
func roundTrip(w io.Writer, r *bufio.Reader, args ...string) (string, error) {
	if err := writeCommand(w, args...); err != nil {
		return "", err
	}
	return readReply(r)
}

// writeCommand writes one command as a RESP array.
func writeCommand(w io.Writer, args ...string) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// readReply reads one RESP2 reply and renders it as text: simple strings,
// integers and bulk strings as they are, a nil reply as "", an array as its
// elements joined by newlines, and an error reply as an error.
func readReply(r *bufio.Reader) (string, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return "", errors.New("empty reply line")
	}
	kind, rest := line[0], line[1:]
	switch kind {
	case '+', ':':
		return rest, nil
	case '-':
		return "", errors.New(rest)
	case '$':
		n, err := strconv.Atoi(rest)
		if err != nil {
			return "", fmt.Errorf("bad bulk length %q", rest)
		}
		if n < 0 {
			return "", nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return "", err
		}
		return string(buf[:n]), nil
	case '*':
		n, err := strconv.Atoi(rest)
		if err != nil {
			return "", fmt.Errorf("bad array length %q", rest)
		}
		elems := make([]string, 0, max(n, 0))
		var firstErr error
		for range n {
			e, err := readReply(r)
			if err != nil {
				// An error element (e.g. inside EXEC) does not end the
				// array; keep reading so the reply is consumed.
				if firstErr == nil {
					firstErr = err
				}
				continue
			}
			elems = append(elems, e)
		}
		return strings.Join(elems, "\n"), firstErr
	default:
		return "", fmt.Errorf("unexpected reply %q", line)
	}
}
