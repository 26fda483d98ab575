package mailout

import (
	"io"
	"log"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// faultServer is an in-process go-smtp server that records each accepted
// message and lets a test inject an error (or a wait) at MAIL, RCPT and
// DATA, in the manner of maddy's test SMTP server. It counts sessions, so
// tests can check that connections are reused and none is leaked.
type faultServer struct {
	addr string
	srv  *smtp.Server

	mu        sync.Mutex
	mail      func(from string) error
	rcpt      func(to string) error
	data      func(to []string, data []byte) error
	got       []captured
	sessions  int // sessions opened
	open      map[*smtp.Conn]bool
	accepted  chan captured
	loggedOut chan struct{} // a session ended (capacity 1, never blocks)
}

type captured struct {
	To   []string
	Data []byte
}

func startFaultServer(t *testing.T) *faultServer {
	t.Helper()
	fs := &faultServer{open: map[*smtp.Conn]bool{}, accepted: make(chan captured, 10000), loggedOut: make(chan struct{}, 1)}
	fs.srv = smtp.NewServer(fs)
	fs.srv.Domain = "localhost"
	fs.srv.ErrorLog = log.New(io.Discard, "", 0)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go fs.srv.Serve(ln)
	fs.addr = ln.Addr().String()
	t.Cleanup(func() { fs.srv.Close() })
	return fs
}

func (fs *faultServer) server() Server {
	host, port, _ := net.SplitHostPort(fs.addr)
	p, _ := strconv.Atoi(port)
	return Server{Host: host, Port: p, TLS: "none", Timeout: 10e9}
}

// NewSession implements smtp.Backend.
func (fs *faultServer) NewSession(c *smtp.Conn) (smtp.Session, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.sessions++
	fs.open[c] = true
	return &faultSession{fs: fs, conn: c}, nil
}

func (fs *faultServer) messages() []captured {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return append([]captured(nil), fs.got...)
}

func (fs *faultServer) counts() (sessions, open int) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.sessions, len(fs.open)
}

// dropAll closes every open connection from the server side, as a server
// does with connections idle for too long.
func (fs *faultServer) dropAll() {
	fs.mu.Lock()
	conns := make([]*smtp.Conn, 0, len(fs.open))
	for c := range fs.open {
		conns = append(conns, c)
	}
	fs.mu.Unlock()
	for _, c := range conns {
		c.Close()
	}
}

func (fs *faultServer) hooks() (func(string) error, func(string) error, func([]string, []byte) error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return fs.mail, fs.rcpt, fs.data
}

type faultSession struct {
	fs   *faultServer
	conn *smtp.Conn
	to   []string
}

func (s *faultSession) Mail(from string, _ *smtp.MailOptions) error {
	if mail, _, _ := s.fs.hooks(); mail != nil {
		return mail(from)
	}
	return nil
}

func (s *faultSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if _, rcpt, _ := s.fs.hooks(); rcpt != nil {
		if err := rcpt(to); err != nil {
			return err
		}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *faultSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if _, _, data := s.fs.hooks(); data != nil {
		if err := data(s.to, b); err != nil {
			return err
		}
	}
	c := captured{To: s.to, Data: b}
	s.fs.mu.Lock()
	s.fs.got = append(s.fs.got, c)
	s.fs.mu.Unlock()
	s.fs.accepted <- c
	return nil
}

func (s *faultSession) Reset() { s.to = nil }

func (s *faultSession) Logout() error {
	s.fs.mu.Lock()
	delete(s.fs.open, s.conn)
	s.fs.mu.Unlock()
	select {
	case s.fs.loggedOut <- struct{}{}:
	default:
	}
	return nil
}

// waitAllClosed waits until no session is open (the client sent QUIT or
// went away), failing the test after 10 seconds.
func (fs *faultServer) waitAllClosed(t *testing.T) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		if _, open := fs.counts(); open == 0 {
			return
		}
		select {
		case <-fs.loggedOut:
		case <-timeout:
			_, open := fs.counts()
			t.Fatalf("%d connections left open", open)
		}
	}
}
