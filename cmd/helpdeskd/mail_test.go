package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"helpdeskd/desk"
	"helpdeskd/mailin"
	"helpdeskd/store"
	"helpdeskd/templates"
)

// TestMailKept: `mail kept` lists the mail stored without a case — our
// own mail, automatic mail, ignored senders — newest first, with why,
// within --since and --limit; mail that opened a case is not listed.
func TestMailKept(t *testing.T) {
	cfgPath := exampleConfig(t)
	src, err := os.ReadFile(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	ignore := strings.Replace(string(src), `unknown_senders = "open"`, `unknown_senders = "ignore"`, 1)
	if ignore == string(src) {
		t.Fatal("no unknown_senders in the example config")
	}
	if err := os.WriteFile(cfgPath, []byte(ignore), 0o600); err != nil {
		t.Fatal(err)
	}
	t0 := at("11-20 09:00")
	withDisplay(t, cfgPath, "Asia/Shanghai", t0.Add(3*time.Hour+30*time.Minute))

	// Deliver through the desk, as serve does, at known times.
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.OpenExisting(context.Background(), cfg.Database.Path)
	if err != nil {
		t.Fatal(err)
	}
	clock := t0
	d := desk.New(cfg, db, tmpl, desk.Options{Now: func() time.Time { return clock }, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	for i, m := range []struct{ from, subject, headers string }{
		{"Alice <alice@acme.test>", "Printer down", ""},                                     // opens case 1
		{"Dana <dana@elsewhere.test>", "Out of office", "Auto-Submitted: auto-replied\r\n"}, // automatic
		{"Support <support@example.com>", "Loop", ""},                                       // our own
		{"Eve <eve@stranger.test>", "Hello there", ""},                                      // unknown sender, ignored
	} {
		clock = t0.Add(time.Duration(i) * time.Hour)
		raw := fmt.Sprintf("From: %s\r\nTo: support@example.com\r\nSubject: %s\r\nMessage-ID: <k%d@test>\r\n%s\r\nText.\r\n", m.from, m.subject, i, m.headers)
		if _, err := d.DeliverMail(context.Background(), mailin.Place{Mailbox: "INBOX", UIDValidity: 1, UID: uint32(i + 1)}, []byte(raw)); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	type entry struct {
		ID         int64  `json:"id"`
		ReceivedAt string `json:"received_at"`
		From       string `json:"from"`
		Subject    string `json:"subject"`
		Why        string `json:"why"`
	}
	list := func(args ...string) []entry {
		t.Helper()
		code, out, errs := runCmd(t, append([]string{"mail", "kept", "--json", "--config", cfgPath}, args...)...)
		if code != 0 {
			t.Fatalf("mail kept %v: exit %d: %s", args, code, errs)
		}
		var es []entry
		if err := json.Unmarshal([]byte(out), &es); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return es
	}
	all := list()
	var got []string
	for _, e := range all {
		got = append(got, e.From+" "+e.Why+" "+e.ReceivedAt)
	}
	want := []string{
		"eve@stranger.test unknown sender ignored 2026-11-20T04:00:00Z",
		"support@example.com own mail 2026-11-20T03:00:00Z",
		"dana@elsewhere.test auto-submitted: auto-replied 2026-11-20T02:00:00Z",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("kept mail:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if len(all) > 0 && (all[0].Subject != "Hello there" || all[0].ID == 0) {
		t.Errorf("newest entry %+v", all[0])
	}
	if es := list("--since", "2h"); len(es) != 2 || es[1].From != "support@example.com" {
		t.Errorf("--since 2h: %+v", es)
	}
	if es := list("--limit", "1"); len(es) != 1 || es[0].From != "eve@stranger.test" {
		t.Errorf("--limit 1: %+v", es)
	}

	// Text: a table in the display zone, and a note when the limit cut.
	code, out, errs := runCmd(t, "mail", "kept", "--limit", "2", "--config", cfgPath)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	for _, s := range []string{"ID", "RECEIVED", "WHY", "2026-11-20 12:00 +08:00", "unknown sender ignored", "Hello there", "(the newest 2 shown"} {
		if !strings.Contains(out, s) {
			t.Errorf("text lacks %q:\n%s", s, out)
		}
	}
	if strings.Contains(out, "dana@") {
		t.Errorf("--limit 2 listed the third:\n%s", out)
	}
	if code, out, _ := runCmd(t, "mail", "kept", "--since", "1m", "--config", cfgPath); code != 0 || !strings.Contains(out, "no mail kept without a case in the last 1m") {
		t.Errorf("--since 1m: %d %q", code, out)
	}
	for _, bad := range [][]string{{"mail"}, {"mail", "sent"}, {"mail", "kept", "--since", "yesterday"}, {"mail", "kept", "--limit", "0"}, {"mail", "kept", "extra"}} {
		if code, _, _ := runCmd(t, append(bad, "--config", cfgPath)...); code != 2 {
			t.Errorf("%v: exit %d, want 2", bad, code)
		}
	}
	code, out, _ = runCmd(t, "help", "mail", "kept")
	if code != 0 || !strings.Contains(out, "usage: helpdeskd mail kept") || !strings.Contains(out, "--since DURATION") || !strings.Contains(out, "--limit N") {
		t.Errorf("help mail kept: %d\n%s", code, out)
	}
}
