//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// opsDaemon is `helpdeskd serve` started from its own working directory,
// with the config in DIR/etc and the database path relative to it.
type opsDaemon struct {
	bin, dir, cfg, db, http string
	cmd                     *exec.Cmd
	log                     *lockedBuffer
	done                    chan error
}

// lockedBuffer collects a process's stderr; the test reads it meanwhile.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// waitLog waits until the log contains part n times.
func (d *opsDaemon) waitLog(t *testing.T, part string, n int) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(d.log.String(), part) < n {
		if time.Now().After(deadline) {
			t.Fatalf("log has no %q (x%d) within 20s:\n%s", part, n, lastLines(d.log.String(), 10))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// mailstack runs e2e/mailstack.sh CMD on the running stack.
func mailstack(t *testing.T, s *MailStack, cmd string) {
	t.Helper()
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(s.IMAP)
	c := exec.Command("bash", filepath.Join(root, "e2e", "mailstack.sh"), cmd, s.Dir)
	c.Env = append(os.Environ(), "E2E_IMAP_PORT="+port)
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("mailstack.sh %s: %v\n%s", cmd, err, out)
	}
}

func healthz(t *testing.T, addr string) (int, string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + addr + "/healthz")
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitHealth polls /healthz until it answers code, and returns the body
// and how long it took.
func waitHealth(t *testing.T, addr string, code int, limit time.Duration) (string, time.Duration) {
	t.Helper()
	return waitHealthFor(t, addr, code, "", limit)
}

// waitHealthFor is waitHealth for an answer whose body contains part.
func waitHealthFor(t *testing.T, addr string, code int, part string, limit time.Duration) (string, time.Duration) {
	t.Helper()
	start := time.Now()
	for {
		got, body := healthz(t, addr)
		if got == code && strings.Contains(body, part) {
			return body, time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("/healthz still %d %q after %v, want %d with %q", got, body, limit, code, part)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func startOpsDaemon(t *testing.T, s *MailStack, env ...string) *opsDaemon {
	t.Helper()
	d := &opsDaemon{bin: BuildBinary(t), dir: t.TempDir(), http: freePort(t), log: &lockedBuffer{}, done: make(chan error, 1)}
	etc := filepath.Join(d.dir, "etc")
	if err := os.Mkdir(etc, 0o700); err != nil {
		t.Fatal(err)
	}
	d.cfg, d.db = filepath.Join(etc, "helpdeskd.toml"), filepath.Join(etc, "helpdeskd.db")
	cfg := fmt.Sprintf(e2eConfig, s.IMAP, s.SMTP, "helpdeskd.db", "1h")
	cfg = strings.Replace(cfg, `listen = ""`, fmt.Sprintf("listen = %q", d.http), 1)
	cfg = strings.Replace(cfg, `poll_interval = "30s"`, `poll_interval = "5s"`, 1)
	if err := os.WriteFile(d.cfg, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	d.cmd = exec.Command(d.bin, "serve", "--config", "etc/helpdeskd.toml")
	d.cmd.Dir, d.cmd.Stderr = d.dir, d.log
	d.cmd.Env = append(os.Environ(), env...)
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			d.cmd.Process.Kill()
			<-d.done
		}
	})
	return d
}

// TestOpsOnRealStack: health that tells the truth about an IMAP outage,
// one daemon per database, and commands from another directory (issue 9).
func TestOpsOnRealStack(t *testing.T) {
	s := Stack(t)
	resetMailboxes(t, s)
	d := startOpsDaemon(t, s)
	body, took := waitHealth(t, d.http, 200, 30*time.Second)
	if body != "ok\n" {
		t.Errorf("healthy body %q", body)
	}
	t.Logf("healthz 200 %v after start", took.Round(time.Millisecond))

	// The database sits beside the config, private.
	for _, f := range []string{d.db, d.db + "-wal", d.db + ".lock"} {
		if st, err := os.Stat(f); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", f, st, err)
		}
	}

	// A second serve on the same database is refused, naming it and the pid.
	var stderr bytes.Buffer
	second := exec.Command(d.bin, "serve", "--config", d.cfg)
	second.Stderr = &stderr
	err := second.Run()
	want := fmt.Sprintf("helpdeskd: database %s is in use by another helpdeskd serve (pid %d, lock file %s.lock)\n", d.db, d.cmd.Process.Pid, d.db)
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || stderr.String() != want {
		t.Errorf("second serve: %v\nstderr %q\nwant   %q", err, stderr.String(), want)
	}

	// A customer mail opens case 1.
	s.Send(t, "alice@acme.test", []string{"support@example.test"}, customerMail(t, "ops-1@acme.test"))
	s.WaitFor(t, "alice@acme.test", 30*time.Second, func(f Fetched) bool { return strings.Contains(f.Subject(), "[Case#1]") })

	// From another directory, with a relative --config, the same case.
	other := filepath.Join(d.dir, "elsewhere")
	os.Mkdir(other, 0o700)
	list := exec.Command(d.bin, "case", "list", "--json", "--config", "../etc/helpdeskd.toml")
	list.Dir = other
	out, err := list.Output()
	if err != nil {
		t.Fatalf("case list from another directory: %v", err)
	}
	var cs []map[string]any
	if err := json.Unmarshal(out, &cs); err != nil || len(cs) != 1 || cs[0]["number"] != float64(1) {
		t.Errorf("case list from %s: %v %s", other, err, out)
	}
	if entries, _ := os.ReadDir(other); len(entries) != 0 {
		t.Errorf("case list created files in %s: %v", other, entries)
	}
	// A wrong path does not make an empty database.
	cfgCopy := filepath.Join(other, "copy.toml")
	text, _ := os.ReadFile(d.cfg)
	os.WriteFile(cfgCopy, text, 0o600) // same relative database path, other directory
	missing := exec.Command(d.bin, "case", "list", "--config", cfgCopy)
	stderr.Reset()
	missing.Stderr = &stderr
	err = missing.Run()
	wantMissing := fmt.Sprintf("helpdeskd: database %s does not exist (run serve first, or check [database] path)\n", filepath.Join(other, "helpdeskd.db"))
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || stderr.String() != wantMissing {
		t.Errorf("case list with no database: %v %q, want %q", err, stderr.String(), wantMissing)
	}
	if _, err := os.Stat(filepath.Join(other, "helpdeskd.db")); !os.IsNotExist(err) {
		t.Errorf("case list created a database: %v", err)
	}

	// A backup taken while serve runs opens and has the case.
	bak := filepath.Join(d.dir, "backup.db")
	out, err = exec.Command(d.bin, "backup", bak, "--config", d.cfg).CombinedOutput()
	if err != nil || !strings.Contains(string(out), bak) {
		t.Fatalf("backup: %v %s", err, out)
	}
	bakCfg := filepath.Join(d.dir, "backup.toml")
	os.WriteFile(bakCfg, bytes.Replace(text, []byte(`path = "helpdeskd.db"`), []byte(`path = "backup.db"`), 1), 0o600)
	out, err = exec.Command(d.bin, "case", "show", "1", "--json", "--config", bakCfg).Output()
	var shown map[string]any
	if err != nil || json.Unmarshal(out, &shown) != nil || shown["number"] != float64(1) || shown["contact_email"] != "alice@acme.test" {
		t.Errorf("case 1 in the backup: %v %s", err, out)
	}

	// Metrics count the case.
	resp, err := http.Get("http://" + d.http + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, w := range []string{`helpdeskd_cases{status="open"} 1`, `helpdeskd_events_total{kind="opened"} 1`, "helpdeskd_imap_connected 1"} {
		if !strings.Contains(string(m), w) {
			t.Errorf("metrics lack %s", w)
		}
	}

	// Dovecot goes down: 503 within a minute, saying imap and since when.
	mailstack(t, s, "stop-dovecot")
	stopped := time.Now()
	body, took = waitHealth(t, d.http, 503, time.Minute)
	t.Logf("healthz 503 %v after Dovecot stopped: %q", took.Round(time.Millisecond), body)
	if !strings.HasPrefix(body, "imap: ") || !strings.Contains(body, "(since ") {
		t.Errorf("unhealthy body %q", body)
	}
	mailstack(t, s, "start-dovecot")
	body, took = waitHealth(t, d.http, 200, 90*time.Second)
	t.Logf("healthz 200 again %v after Dovecot restarted (outage %v)", took.Round(time.Millisecond), time.Since(stopped).Round(time.Second))
	if body != "ok\n" {
		t.Errorf("healthy body after restart %q", body)
	}

	// SIGHUP reloads; a broken file is refused and the daemon goes on.
	d.cmd.Process.Signal(syscall.SIGHUP)
	d.waitLog(t, `msg="config reloaded"`, 1)
	os.WriteFile(d.cfg, append(append([]byte(nil), text...), []byte("\n[nonsense\n")...), 0o600)
	d.cmd.Process.Signal(syscall.SIGHUP)
	d.waitLog(t, `msg="config reload failed, keeping the running configuration"`, 1)
	if !strings.Contains(d.log.String(), "reload etc/helpdeskd.toml: ") {
		t.Errorf("the reload error does not name the file:\n%s", lastLines(d.log.String(), 3))
	}
	for _, l := range strings.Split(d.log.String(), "\n") {
		if strings.Contains(l, "config reload failed") {
			t.Logf("log: %s", l)
		}
	}
	if code, body := healthz(t, d.http); code != 200 {
		t.Errorf("after a failed reload: %d %q", code, body)
	}

	// Shutdown says how many mails are still queued.
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-d.done:
		if err != nil {
			t.Errorf("serve exit: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop within 30s of SIGTERM")
	}
	if !strings.Contains(d.log.String(), "msg=\"helpdeskd stopped\" queued=0") {
		t.Errorf("shutdown line missing:\n%s", lastLines(d.log.String(), 5))
	}
}

// TestWrongIMAPPasswordOnRealStack: check names the key and line once,
// and /healthz says the login is refused instead of "ok".
func TestWrongIMAPPasswordOnRealStack(t *testing.T) {
	s := Stack(t)
	d := startOpsDaemon(t, s, "E2E_PASSWORD=not-the-password")
	check := exec.Command(d.bin, "check", "--config", d.cfg)
	check.Env = append(os.Environ(), "E2E_PASSWORD=not-the-password")
	var stdout, stderr bytes.Buffer
	check.Stdout, check.Stderr = &stdout, &stderr
	err := check.Run()
	prefix := d.cfg + ":6: mailbox.password_env: IMAP login refused: "
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
		t.Errorf("check exit: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	var refused []string
	for _, l := range lines {
		if strings.Contains(l, "IMAP login refused") {
			refused = append(refused, l)
		}
	}
	if len(refused) != 1 || !strings.HasPrefix(refused[0], prefix) || !strings.Contains(refused[0], "AUTHENTICATIONFAILED") {
		t.Errorf("check stdout:\n%s\nwant one line starting %q", stdout.String(), prefix)
	}
	if strings.Contains(stderr.String(), "refused") {
		t.Errorf("check repeats the problem on stderr: %q", stderr.String())
	}
	body, took := waitHealthFor(t, d.http, 503, "login failed", 30*time.Second)
	if !strings.HasPrefix(body, "imap: login failed: ") || !strings.Contains(body, "AUTHENTICATIONFAILED") || !strings.Contains(body, "(since ") {
		t.Errorf("healthz body %q", body)
	}
	t.Logf("healthz 503 %v after start with a wrong password: %q", took.Round(time.Millisecond), body)
	resp, err := http.Get("http://" + d.http + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	m, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, w := range []string{"helpdeskd_imap_connected 0", "helpdeskd_healthy 0", "helpdeskd_last_sync_timestamp_seconds 0"} {
		if !strings.Contains(string(m), w) {
			t.Errorf("metrics lack %s", w)
		}
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	if err := <-d.done; err != nil {
		t.Errorf("serve exit: %v", err)
	}
}

func lastLines(s string, n int) string {
	l := strings.Split(strings.TrimSpace(s), "\n")
	return strings.Join(l[max(0, len(l)-n):], "\n")
}
