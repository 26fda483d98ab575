package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/smtp"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
	dto "github.com/prometheus/client_model/go"

	"helpdeskd/cases"
	"helpdeskd/config"
	"helpdeskd/desk"
	"helpdeskd/internal/testmail"
	"helpdeskd/mailin"
	"helpdeskd/store"
	"helpdeskd/templates"
)

type fakeFetch struct{ h mailin.FetchHealth }

func (f *fakeFetch) Health() mailin.FetchHealth { return f.h }

func TestHealthChecks(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	now := t0.Add(time.Hour)
	up := mailin.FetchHealth{LoggedIn: true, Since: t0, LastSync: now.Add(-10 * time.Second)}
	tests := []struct {
		name  string
		fetch mailin.FetchHealth
		poll  time.Duration
		smtp  func(*smtpHealth)
		want  []string
	}{
		{"all well", up, 30 * time.Second, nil, nil},
		{"never logged in", mailin.FetchHealth{}, 30 * time.Second, nil,
			[]string{"imap: not logged in yet (since 2026-12-01T09:00:00Z)"}},
		{"login refused", mailin.FetchHealth{Since: t0.Add(time.Minute), Stage: mailin.StageLogin,
			LastError: "login support@example.com: NO [AUTHENTICATIONFAILED] Authentication failed."}, 30 * time.Second, nil,
			[]string{"imap: login failed: login support@example.com: NO [AUTHENTICATIONFAILED] Authentication failed. (since 2026-12-01T09:01:00Z)"}},
		{"server down", mailin.FetchHealth{Since: t0.Add(2 * time.Minute), Stage: mailin.StageConnect,
			LastError: "connect imap.example.com:993: connection refused", LastSync: t0}, 30 * time.Second, nil,
			[]string{"imap: cannot connect: connect imap.example.com:993: connection refused (since 2026-12-01T09:02:00Z)"}},
		{"first sync running", mailin.FetchHealth{LoggedIn: true, Since: t0}, 30 * time.Second, nil,
			[]string{"imap: logged in, first sync not finished (since 2026-12-01T09:00:00Z)"}},
		{"sync 89s old, limit 3x30s", mailin.FetchHealth{LoggedIn: true, Since: t0, LastSync: now.Add(-89 * time.Second)}, 30 * time.Second, nil, nil},
		{"sync 90s old, limit 3x30s", mailin.FetchHealth{LoggedIn: true, Since: t0, LastSync: now.Add(-90 * time.Second)}, 30 * time.Second, nil,
			[]string{"imap: no successful sync for 1m30s (limit 1m30s) (since 2026-12-01T09:58:30Z)"}},
		{"sync 59s old, limit at least 60s", mailin.FetchHealth{LoggedIn: true, Since: t0, LastSync: now.Add(-59 * time.Second)}, 5 * time.Second, nil, nil},
		{"sync 60s old, limit at least 60s", mailin.FetchHealth{LoggedIn: true, Since: t0, LastSync: now.Add(-60 * time.Second)}, 5 * time.Second, nil,
			[]string{"imap: no successful sync for 1m0s (limit 1m0s) (since 2026-12-01T09:59:00Z)"}},
		{"smtp deferring", up, 30 * time.Second, func(s *smtpHealth) {
			s.record(false, true, "dial tcp: connection refused")
			s.record(false, true, "dial tcp: i/o timeout")
		}, []string{"smtp: sending deferred: dial tcp: i/o timeout (since 2026-12-01T10:00:00Z)"}},
		{"smtp recovered", up, 30 * time.Second, func(s *smtpHealth) {
			s.record(false, true, "421 busy")
			s.record(true, false, "")
		}, nil},
		{"two bounces are not the server", up, 30 * time.Second, func(s *smtpHealth) {
			s.record(false, false, "550 no such user")
			s.record(false, false, "550 no such user")
		}, nil},
		{"three permanent failures in a row", up, 30 * time.Second, func(s *smtpHealth) {
			for range 3 {
				s.record(false, false, "535 5.7.8 authentication failed")
			}
		}, []string{"smtp: the last 3 mails failed: 535 5.7.8 authentication failed (since 2026-12-01T10:00:00Z)"}},
	}
	db, err := store.Create(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	clock := func() time.Time { return now }
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sh := &smtpHealth{now: clock}
			if tc.smtp != nil {
				tc.smtp(sh)
			}
			hc := &healthChecks{now: clock, loc: time.UTC, db: db, fetch: &fakeFetch{tc.fetch}, smtp: sh, poll: tc.poll, started: t0}
			got := hc.check(context.Background())
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tc.want, "\n  "))
			}
		})
	}

	t.Run("outbox past its first retry", func(t *testing.T) {
		err := db.Tx(context.Background(), func(tx *store.Txn) error {
			c := &cases.Case{Subject: "s", Status: cases.StatusOpen, Severity: 2, Priority: "high", OpenedAt: t0}
			if err := tx.InsertCase(c); err != nil {
				return err
			}
			o := &cases.Outgoing{Case: c.Number, Kind: "ack", MessageID: "a1@example.com", To: []string{"alice@acme.test"}}
			if err := tx.Enqueue(o, now.Add(-31*time.Second)); err != nil {
				return err
			}
			return tx.MarkRetry(o.ID, store.Attempt{N: 1, At: now.Add(-31 * time.Second), Code: 451, Enhanced: "4.3.0",
				Temporary: true, Error: "451 4.3.0 try again later"}, now.Add(-time.Second))
		})
		if err != nil {
			t.Fatal(err)
		}
		hc := &healthChecks{now: clock, loc: time.UTC, db: db, fetch: &fakeFetch{up}, smtp: &smtpHealth{now: clock}, poll: 30 * time.Second, started: t0}
		want := "outbox: 1 mail(s) waiting past their first retry, the oldest for case 1: 451 4.3.0 try again later (since 2026-12-01T09:59:29Z)"
		if got := hc.check(context.Background()); len(got) != 1 || got[0] != want {
			t.Errorf("got %q\nwant %q", got, want)
		}
		// 29 seconds after it was queued, its first retry has not come.
		hc.now = func() time.Time { return now.Add(-2 * time.Second) }
		if got := hc.check(context.Background()); len(got) != 0 {
			t.Errorf("before the first retry: %q", got)
		}
	})

	t.Run("database gone", func(t *testing.T) {
		db2, err := store.Create(context.Background(), filepath.Join(t.TempDir(), "t.db"))
		if err != nil {
			t.Fatal(err)
		}
		db2.Close()
		hc := &healthChecks{now: clock, loc: time.UTC, db: db2, fetch: &fakeFetch{up}, smtp: &smtpHealth{now: clock}, poll: 30 * time.Second, started: t0}
		got := hc.check(context.Background())
		if len(got) != 1 || !strings.HasPrefix(got[0], "database: does not answer: ") || !strings.HasSuffix(got[0], "(since 2026-12-01T10:00:00Z)") {
			t.Errorf("got %q", got)
		}
	})
}

// freeAddr returns a local address nobody listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// syncBuffer is a log destination tests can read while the daemon writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// opsEnv runs the daemon with its HTTP endpoint, a config file on disk,
// a reload channel and a log to read.
type opsEnv struct {
	srv     *testmail.Servers
	cfgPath string
	dbPath  string
	http    string
	log     *syncBuffer
	reload  chan struct{}
	reloads chan error
	cancel  context.CancelFunc
	done    chan error
}

func startOps(t *testing.T, edit func(string) string) *opsEnv {
	t.Helper()
	srv, err := testmail.Start(testmail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	for _, u := range []string{"support@example.com", "alice@acme.test", "eng1@example.com", "desk@example.com", "csm@example.com", "quality@example.com"} {
		srv.AddUser(u, "pw")
	}
	dir := t.TempDir()
	e := &opsEnv{srv: srv, cfgPath: filepath.Join(dir, "helpdeskd.toml"), dbPath: filepath.Join(dir, "t.db"), http: freeAddr(t),
		log: &syncBuffer{}, reload: make(chan struct{}, 1), reloads: make(chan error, 10)}
	text := fmt.Sprintf(testConfig, srv.IMAPAddr, srv.SMTPAddr, e.dbPath)
	text = strings.Replace(text, `listen = ""`, fmt.Sprintf("listen = %q", e.http), 1)
	if edit != nil {
		text = edit(text)
	}
	if err := os.WriteFile(e.cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(e.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	e.cancel, e.done = runReady(t, cfg, Options{Logger: slog.New(slog.NewTextHandler(e.log, nil)), Drain: 200 * time.Millisecond,
		Reload: e.reload, OnReload: func(err error) { e.reloads <- err }})
	return e
}

func (e *opsEnv) stop(t *testing.T) {
	t.Helper()
	e.cancel()
	if err := <-e.done; err != nil {
		t.Fatal(err)
	}
}

func (e *opsEnv) send(t *testing.T, from, msgID, subject string) {
	t.Helper()
	raw := fmt.Sprintf("From: %s\r\nTo: support@example.com\r\nSubject: %s\r\nMessage-ID: <%s>\r\n"+
		"Date: Tue, 01 Dec 2026 09:00:00 +0800\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nIt broke.\r\n", from, subject, msgID)
	if err := smtp.SendMail(e.srv.SMTPAddr, nil, from, []string{"support@example.com"}, []byte(raw)); err != nil {
		t.Fatal(err)
	}
}

// waitSubject waits for a mail to rcpt whose subject contains want.
func waitSubject(t *testing.T, srv *testmail.Servers, rcpt, want string) {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		for _, m := range srv.Sent() {
			if strings.EqualFold(m.To[0], rcpt) && strings.Contains(subjectOf(m.Data), want) {
				return
			}
		}
		select {
		case <-srv.Delivered():
		case <-deadline:
			t.Fatalf("no mail to %s with %q in the subject within 30s", rcpt, want)
		}
	}
}

func subjectOf(raw []byte) string {
	for _, l := range strings.Split(string(raw), "\r\n") {
		if strings.HasPrefix(l, "Subject: ") {
			return l
		}
		if l == "" {
			break
		}
	}
	return ""
}

func TestServeHealthMetricsAndShutdown(t *testing.T) {
	e := startOps(t, nil)
	if code, body := get(t, "http://"+e.http+"/healthz"); code != 200 || body != "ok\n" {
		t.Fatalf("healthz = %d %q", code, body)
	}
	// A case opened by another process (`helpdeskd case open`) counts.
	db, err := store.OpenExisting(context.Background(), e.dbPath)
	if err != nil {
		t.Fatal(err)
	}
	cfg, _ := config.Load(e.cfgPath)
	tmpl, _ := templates.Load("")
	other := desk.New(cfg, db, tmpl, desk.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if _, err := other.OpenCase(context.Background(), desk.OpenInput{Company: "ACME", Contact: "Alice", Email: "alice@acme.test",
		Severity: 2, Subject: "Phone call: printer down", Actor: "hotline"}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, metrics := get(t, "http://"+e.http+"/metrics")
	for _, want := range []string{
		`helpdeskd_events_total{kind="opened"} 1`,
		`helpdeskd_cases{status="open"} 1`,
		`helpdeskd_cases{status="closed"} 0`,
		`helpdeskd_imap_connected 1`,
		`helpdeskd_healthy 1`,
		`helpdeskd_deadlines_overdue{deadline="respond"} 0`,
		`helpdeskd_escalations_total{kind="stuck"} 0`,
		`helpdeskd_auto_replies_suppressed_total 0`,
		`helpdeskd_deliveries_failed_total 0`,
		`helpdeskd_build_info{commit=`,
		`helpdeskd_last_sync_timestamp_seconds `,
		`helpdeskd_outbox_queued `,
		`helpdeskd_outbox_oldest_age_seconds `,
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}

	// SMTP starts deferring: the health check says so, and mail stays
	// queued through shutdown, which the last log line counts.
	e.srv.FailRcpt(func(rcpt string) error {
		if rcpt == "support@example.com" {
			return nil // the customer's mail still arrives
		}
		return &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	})
	e.send(t, "alice@acme.test", "m1@acme.test", "Database down")
	deadline := time.Now().Add(20 * time.Second)
	var code int
	var body string
	for {
		if code, body = get(t, "http://"+e.http+"/healthz"); code == 503 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthz still %d %q while SMTP defers", code, body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.HasPrefix(body, "smtp: sending deferred: ") || !strings.Contains(body, "451") || !strings.Contains(body, "(since ") {
		t.Errorf("healthz body %q", body)
	}
	e.stop(t)
	if !strings.Contains(e.log.String(), "mail still queued") || strings.Contains(e.log.String(), "queued=0") {
		t.Errorf("shutdown log does not count the queued mail:\n%s", e.log.String())
	}
}

func TestSecondDaemonIsRefused(t *testing.T) {
	e := startOps(t, nil)
	defer e.stop(t)
	cfg, err := config.Load(e.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	err = Run(context.Background(), cfg, Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) || le.PID != os.Getpid() {
		t.Fatalf("second Run = %v", err)
	}
	want := fmt.Sprintf("database %s is in use by another helpdeskd serve (pid %d, lock file %s.lock)", e.dbPath, os.Getpid(), e.dbPath)
	if err.Error() != want {
		t.Errorf("message %q\nwant    %q", err.Error(), want)
	}
	// The database files are private.
	for _, f := range []string{e.dbPath, e.dbPath + "-wal", e.dbPath + ".lock"} {
		if st, err := os.Stat(f); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", filepath.Base(f), st.Mode(), err)
		}
	}
}

func TestLockIsReleased(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	release, err := Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Lock(path); !errors.Is(err, ErrLocked) {
		t.Fatalf("second lock: %v", err)
	}
	release()
	release2, err := Lock(path)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	release2()
}

func TestSIGHUPReload(t *testing.T) {
	e := startOps(t, nil)
	defer e.stop(t)
	e.send(t, "alice@acme.test", "r1@acme.test", "Before")
	waitSubject(t, e.srv, "alice@acme.test", "[Case#1] Before")

	// A valid change takes effect for the next mail.
	text, _ := os.ReadFile(e.cfgPath)
	os.WriteFile(e.cfgPath, bytes.Replace(text, []byte("[plans.5x8]"), []byte("[threading]\ntag = \"Ticket\"\n\n[plans.5x8]"), 1), 0o600)
	e.reload <- struct{}{}
	if err := <-e.reloads; err != nil {
		t.Fatalf("reload: %v", err)
	}
	e.send(t, "alice@acme.test", "r2@acme.test", "After")
	waitSubject(t, e.srv, "alice@acme.test", "[Ticket#2] After")

	// A broken file is refused; the running configuration stays.
	os.WriteFile(e.cfgPath, []byte("[mailbox\nbroken"), 0o600)
	e.reload <- struct{}{}
	if err := <-e.reloads; err == nil || !strings.Contains(err.Error(), e.cfgPath) {
		t.Fatalf("broken reload: %v", err)
	}
	if !strings.Contains(e.log.String(), "config reload failed, keeping the running configuration") {
		t.Errorf("log does not say why:\n%s", e.log.String())
	}
	e.send(t, "alice@acme.test", "r3@acme.test", "Still")
	waitSubject(t, e.srv, "alice@acme.test", "[Ticket#3] Still")
}

// TestEscalationKinds: the metric labels follow the reasons desk writes.
func TestEscalationKinds(t *testing.T) {
	cfg, err := config.Parse("t.toml", fmt.Appendf(nil, testConfig, "127.0.0.1:1", "127.0.0.1:2", "unused"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Create(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tmpl, _ := templates.Load("")
	t0 := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	now := t0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	d := desk.New(cfg, db, tmpl, desk.Options{Now: clock, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if _, err := d.OpenCase(context.Background(), desk.OpenInput{Company: "ACME", Contact: "Alice", Email: "alice@acme.test",
		Severity: 1, Subject: "All down", Actor: "hotline"}); err != nil {
		t.Fatal(err)
	}
	for h := 1; h <= 72; h++ { // three days without anyone answering
		mu.Lock()
		now = t0.Add(time.Duration(h) * time.Hour)
		mu.Unlock()
		if _, err := d.FireDue(context.Background(), 1000); err != nil {
			t.Fatal(err)
		}
	}
	c := &dbCollector{db: db, now: clock, fetch: &fakeFetch{}, health: &healthChecks{now: clock, loc: time.UTC, db: db,
		fetch: &fakeFetch{}, smtp: &smtpHealth{now: clock}, poll: time.Minute, started: t0}}
	fams, err := newRegistry(c).Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	var escalated float64
	for _, f := range fams {
		switch f.GetName() {
		case "helpdeskd_escalations_total":
			for _, m := range f.GetMetric() {
				got[label(m, "kind")] = m.GetCounter().GetValue()
			}
		case "helpdeskd_events_total":
			for _, m := range f.GetMetric() {
				if label(m, "kind") == cases.EvEscalated {
					escalated = m.GetCounter().GetValue()
				}
			}
		}
	}
	if got["respond"] < 1 || got["solve"] < 1 || got["other"] != 0 {
		t.Errorf("escalations by kind %v", got)
	}
	if sum := got["respond"] + got["stuck"] + got["solve"] + got["onsite"] + got["report"]; sum != escalated {
		t.Errorf("kinds add up to %v, escalated events %v", sum, escalated)
	}
}

func label(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}
