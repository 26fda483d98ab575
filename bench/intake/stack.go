package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"

	"helpdeskd/internal/mailstack"
)

// stack is the e2e suite's Dovecot and Postfix, started by
// e2e/mailstack.sh on the E2E_*_PORT ports.
type stack struct {
	dir, imap, smtp, password string
}

// mailDir is user's mail directory in the stack (e2e/mailstack.sh's
// MAIL_DIR/domain/local).
func (s *stack) mailDir(user string) string {
	local, domain, _ := strings.Cut(user, "@")
	return filepath.Join(s.dir, "mail", domain, local)
}

// snapshotMail copies user's mail directory (messages and Dovecot's
// indexes) aside; restoreMail puts that copy back, so that a figure can
// run again on the same mailbox without APPENDing it again. Dovecot
// reads the indexes again at the next login. cp -a keeps the owners.
func (s *stack) snapshotMail(user string) error {
	snap := s.mailDir(user) + ".snap"
	os.RemoveAll(snap)
	return run("cp", "-a", s.mailDir(user), snap)
}

func (s *stack) restoreMail(user string) error {
	if err := os.RemoveAll(s.mailDir(user)); err != nil {
		return err
	}
	return run("cp", "-a", s.mailDir(user)+".snap", s.mailDir(user))
}

func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

func startStack(dir string) (*stack, error) {
	env, err := mailstack.Start(dir)
	if err != nil {
		return nil, err
	}
	return &stack{dir: dir, imap: env["E2E_IMAP"], smtp: env["E2E_SMTP"], password: env["E2E_PASSWORD"]}, nil
}

func (s *stack) stop() { _ = mailstack.Stop(s.dir, io.Discard) }

func (s *stack) login(user string) (*imapclient.Client, error) {
	c, err := imapclient.DialInsecure(s.imap, nil)
	if err != nil {
		return nil, err
	}
	if err := c.Login(user, s.password).Wait(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// appendAll APPENDs the mails to user's INBOX with INTERNALDATE at.
func (s *stack) appendAll(user string, mails [][]byte, at time.Time) error {
	c, err := s.login(user)
	if err != nil {
		return err
	}
	defer c.Close()
	for _, raw := range mails {
		cmd := c.Append("INBOX", int64(len(raw)), &imap.AppendOptions{Time: at})
		if _, err := cmd.Write(raw); err != nil {
			return err
		}
		if err := cmd.Close(); err != nil {
			return err
		}
		if _, err := cmd.Wait(); err != nil {
			return fmt.Errorf("append: %w", err)
		}
	}
	return nil
}

// bareFetch is the floor: a go-imap client that FETCHes every message of
// user's INBOX (BODY.PEEK[]) and reads each literal, doing nothing else.
func (s *stack) bareFetch(user string) (time.Duration, int64, error) {
	c, err := s.login(user)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	t0 := time.Now()
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		return 0, 0, err
	}
	var all imap.UIDSet
	all.AddRange(1, 0)
	cmd := c.Fetch(all, &imap.FetchOptions{UID: true, InternalDate: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
	var total int64
	for msg := cmd.Next(); msg != nil; msg = cmd.Next() {
		for it := msg.Next(); it != nil; it = msg.Next() {
			if b, ok := it.(imapclient.FetchItemDataBodySection); ok && b.Literal != nil {
				n, err := io.Copy(io.Discard, b.Literal)
				if err != nil {
					return 0, 0, err
				}
				total += n
			}
		}
	}
	if err := cmd.Close(); err != nil {
		return 0, 0, err
	}
	return time.Since(t0), total, nil
}

// count returns the number of messages in a folder.
func (s *stack) count(user, folder string) (int, error) {
	c, err := s.login(user)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	st, err := c.Status(folder, &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		return 0, err
	}
	return int(*st.NumMessages), nil
}

// send submits one mail to Postfix.
func (s *stack) send(from string, to []string, raw []byte) error {
	c, err := smtp.Dial(s.smtp)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.SendMail(from, to, bytes.NewReader(raw)); err != nil {
		return err
	}
	return c.Quit()
}

// sinkServer is an SMTP server that accepts and discards every mail: the
// import is measured without the outgoing mail's delivery.
type sinkServer struct {
	srv  *smtp.Server
	addr string
	n    atomic.Int64
	max  atomic.Int64 // the largest mail received, in bytes
}

func startSink() (*sinkServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &sinkServer{addr: ln.Addr().String()}
	s.srv = smtp.NewServer(sinkBackend{s})
	s.srv.Domain = "sink.test"
	s.srv.AllowInsecureAuth = true
	go s.srv.Serve(ln)
	return s, nil
}

type sinkBackend struct{ s *sinkServer }

func (b sinkBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return sinkSession{b.s}, nil }

type sinkSession struct{ s *sinkServer }

func (sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (x sinkSession) Data(r io.Reader) error {
	n, err := io.Copy(io.Discard, r)
	x.s.n.Add(1)
	for m := x.s.max.Load(); n > m && !x.s.max.CompareAndSwap(m, n); m = x.s.max.Load() {
	}
	return err
}
func (sinkSession) Reset()        {}
func (sinkSession) Logout() error { return nil }

// serve is a running `helpdeskd serve`, its log watched line by line and
// its memory sampled.
type serve struct {
	cmd     *exec.Cmd
	started time.Time
	mu      sync.Mutex
	lines   []string
	waiters []waiter
	done    chan struct{}
}

type waiter struct {
	word string
	c    chan time.Time
}

func startServe(bin, cfg string, extra ...string) (*serve, error) {
	s := &serve{started: time.Now(), done: make(chan struct{})}
	args := append([]string{"serve", "--config", cfg}, extra...)
	if *serveProfile != "" {
		// One profile per serve, named after its config.
		name := strings.TrimSuffix(filepath.Base(cfg), filepath.Ext(cfg))
		if !slices.Contains(args, "-debug") {
			args = append(args, "-debug")
		}
		args = append(args, "-cpuprofile", filepath.Join(*serveProfile, fmt.Sprintf("%s-%d.prof", name, time.Now().UnixMilli())))
	}
	s.cmd = exec.Command(bin, args...)
	pr, pw := io.Pipe()
	s.cmd.Stderr = pw
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		sc := bufio.NewScanner(pr)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			now := time.Now()
			line := sc.Text()
			s.mu.Lock()
			s.lines = append(s.lines, line)
			keep := s.waiters[:0]
			for _, w := range s.waiters {
				if strings.Contains(line, w.word) {
					w.c <- now
				} else {
					keep = append(keep, w)
				}
			}
			s.waiters = keep
			s.mu.Unlock()
		}
	}()
	go func() { s.cmd.Wait(); pw.Close(); close(s.done) }()
	return s, nil
}

// wait returns when a log line containing word is written (or was).
func (s *serve) wait(ctx context.Context, word string) (time.Time, error) {
	c := make(chan time.Time, 1)
	s.mu.Lock()
	s.waiters = append(s.waiters, waiter{word, c})
	s.mu.Unlock()
	select {
	case t := <-c:
		return t, nil
	case <-s.done:
		return time.Time{}, fmt.Errorf("serve exited before %q:\n%s", word, s.tail())
	case <-ctx.Done():
		return time.Time{}, fmt.Errorf("no %q: %w\n%s", word, ctx.Err(), s.tail())
	}
}

func (s *serve) find(word string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.lines {
		if strings.Contains(l, word) {
			return l
		}
	}
	return ""
}

func (s *serve) tail() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines[max(0, len(s.lines)-20):], "\n")
}

// rss returns the current and peak resident set of the process, in bytes.
func (s *serve) rss() (cur, peak int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			cur = kb << 10
		case "VmHWM:":
			peak = kb << 10
		}
	}
	return cur, peak
}

func (s *serve) stop() error {
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
		return nil
	case <-time.After(30 * time.Second):
		s.cmd.Process.Kill()
		return fmt.Errorf("serve did not stop within 30s")
	}
}

// idleNotice measures how long an IDLE client waits for the EXISTS of a
// plain mail delivered to user: the stack's floor for mail picked up by
// IDLE (Dovecot here checks the mailbox every second, without inotify).
func (s *stack) idleNotice(ctx context.Context, user string, n int) ([]time.Duration, error) {
	exists := make(chan time.Time, 16)
	c, err := imapclient.DialInsecure(s.imap, &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
		Mailbox: func(d *imapclient.UnilateralDataMailbox) {
			if d.NumMessages != nil {
				select {
				case exists <- time.Now():
				default:
				}
			}
		}}})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if err := c.Login(user, s.password).Wait(); err != nil {
		return nil, err
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		return nil, err
	}
	var out []time.Duration
	for i := range n {
		idle, err := c.Idle()
		if err != nil {
			return nil, err
		}
		raw := fmt.Appendf(nil, "From: desk@example.test\r\nTo: %s\r\nSubject: idle %d\r\nMessage-ID: <idle%d@example.test>\r\n\r\nhello\r\n", user, i, i)
		t0 := time.Now()
		if err := s.send("desk@example.test", []string{user}, raw); err != nil {
			return nil, err
		}
		select {
		case at := <-exists:
			out = append(out, at.Sub(t0))
		case <-time.After(30 * time.Second):
			return nil, fmt.Errorf("no EXISTS within 30s")
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if err := idle.Close(); err != nil {
			return nil, err
		}
		if err := idle.Wait(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
