//go:build e2e

package e2e

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// TestCrashDuringImportOnRealStack: serve is killed (SIGKILL) twice in
// the middle of a first sync of 900 mails on the real Dovecot, and
// started again each time; at the end every mail is stored once, every
// case has one acknowledgement queued, no reply is threaded twice, and
// every mail sits in Processed (SPEC §2, §7: a crash at any moment loses
// nothing and handles nothing twice, with mail delivered a chunk per
// transaction).
func TestCrashDuringImportOnRealStack(t *testing.T) {
	s := Stack(t)
	resetMailboxes(t, s)
	const n = 900
	c := s.Login(t, "support@example.test", nil)
	for i := range n {
		// A third answer an earlier mail by References.
		refs := ""
		if i%3 == 2 {
			refs = fmt.Sprintf("In-Reply-To: <crash%d@acme.test>\r\nReferences: <crash%d@acme.test>\r\n", i-2, i-2)
		}
		raw := []byte(fmt.Sprintf("From: Alice <alice@acme.test>\r\nTo: support@example.test\r\nSubject: fault %d\r\n"+
			"Message-ID: <crash%d@acme.test>\r\n%sDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n%s\r\n",
			i, i, refs, time.Now().Format(time.RFC1123Z), strings.Repeat(fmt.Sprintf("Line %d of the fault report.\r\n", i), 40)))
		if _, err := appendOn(c, "INBOX", raw, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	closeIMAP(c)

	dir := t.TempDir()
	db := filepath.Join(dir, "hd.db")
	// Nothing is sent (the SMTP port is closed): the queue is what is
	// checked. One customer writes all the mails: a limit above them.
	cfg := fmt.Sprintf(e2eConfig, s.IMAP, "127.0.0.1:1", db, "1h")
	cfg = strings.Replace(cfg, "auto_reply_limit = 100", "auto_reply_limit = 1000000", 1)
	cfgPath := filepath.Join(dir, "helpdeskd.toml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := BuildBinary(t)
	start := func() (*exec.Cmd, *lockedBuffer) {
		log := &lockedBuffer{}
		cmd := exec.Command(bin, "serve", "--config", cfgPath)
		cmd.Stderr = log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, log
	}
	stored := func() int {
		q, err := sql.Open("sqlite", "file:"+db+"?mode=ro&_pragma=busy_timeout(5000)")
		if err != nil {
			return 0
		}
		defer q.Close()
		var k int
		if q.QueryRow("SELECT COUNT(*) FROM messages").Scan(&k) != nil {
			return 0
		}
		return k
	}
	var kills []int
	for _, at := range []int{150, 500} {
		cmd, log := start()
		deadline := time.Now().Add(60 * time.Second)
		for stored() < at {
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("fewer than %d mails stored within 60 s:\n%s", at, lastLines(log.String(), 10))
			}
			time.Sleep(10 * time.Millisecond)
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		cmd.Wait()
		k := stored()
		if k >= n {
			t.Fatalf("the import was done (%d mails) before the kill: nothing was cut off", k)
		}
		kills = append(kills, k)
	}
	cmd, log := start()
	deadline := time.Now().Add(90 * time.Second)
	for !strings.Contains(log.String(), "first sync done") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no first sync done within 90 s:\n%s", lastLines(log.String(), 10))
		}
		time.Sleep(50 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	summary := ""
	for _, l := range strings.Split(log.String(), "\n") {
		if strings.Contains(l, "first sync done") {
			summary = l
		}
	}
	t.Logf("killed with %d and %d mails stored; then: %s", kills[0], kills[1], summary)

	q, err := sql.Open("sqlite", "file:"+db+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	one := func(query string) int {
		t.Helper()
		var v int
		if err := q.QueryRow(query).Scan(&v); err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		return v
	}
	if got := one("SELECT COUNT(*) FROM messages"); got != n {
		t.Errorf("%d messages stored, want %d", got, n)
	}
	if got := one("SELECT COUNT(DISTINCT message_id) FROM messages"); got != n {
		t.Errorf("%d distinct Message-IDs stored, want %d", got, n)
	}
	if got := one("SELECT COUNT(*) FROM cases"); got != n-n/3 {
		t.Errorf("%d cases, want %d (a third of the mails are replies)", got, n-n/3)
	}
	if got := one("SELECT COUNT(*) FROM (SELECT case_number FROM outbox WHERE kind = 'ack' GROUP BY case_number HAVING COUNT(*) != 1)"); got != 0 {
		t.Errorf("%d cases without exactly one acknowledgement", got)
	}
	if got := one("SELECT COUNT(*) FROM outbox WHERE kind = 'ack'"); got != n-n/3 {
		t.Errorf("%d acknowledgements queued, want %d", got, n-n/3)
	}
	if got := one("SELECT COUNT(*) FROM (SELECT case_number FROM messages GROUP BY case_number HAVING COUNT(*) = 2)"); got != n/3 {
		t.Errorf("%d cases hold a mail and its reply, want %d", got, n/3)
	}
	if got := one("SELECT last_uid FROM mailbox_state WHERE mailbox = 'INBOX'"); got < n {
		t.Errorf("last UID %d, want at least %d", got, n)
	}
	if left := len(s.MessagesIn(t, "support@example.test", "INBOX")); left != 0 {
		t.Errorf("%d mails left in INBOX", left)
	}
	moved := s.MessagesIn(t, "support@example.test", "Processed")
	ids := map[string]int{}
	for _, m := range moved {
		ids[m.MessageID()]++
	}
	if len(moved) != n || len(ids) != n {
		t.Errorf("%d mails in Processed (%d distinct), want %d", len(moved), len(ids), n)
	}
}
