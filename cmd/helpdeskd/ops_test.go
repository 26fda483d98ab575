package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helpdeskd/internal/testmail"
	"helpdeskd/store"
)

func TestHelpPrintsTheCommandsFlags(t *testing.T) {
	for _, args := range [][]string{{"help", "case", "list"}, {"case", "list", "--help"}, {"case", "list", "-h"}} {
		code, out, errs := runCmd(t, args...)
		if code != 0 || errs != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errs)
		}
		for _, want := range []string{"usage: helpdeskd case list", "--status", "--json", "--config FILE", "Read the configuration from FILE"} {
			if !strings.Contains(out, want) {
				t.Errorf("%v: output lacks %q:\n%s", args, want, out)
			}
		}
	}
	code, out, _ := runCmd(t, "help", "check")
	if code != 0 || !strings.Contains(out, "--offline") || !strings.Contains(out, "Skip the IMAP and SMTP logins") || strings.Contains(out, "--status") {
		t.Errorf("help check: %d\n%s", code, out)
	}
	if code, out, _ := runCmd(t, "help"); code != 0 || !strings.Contains(out, "backup FILE") || !strings.Contains(out, "version") {
		t.Errorf("help: %d\n%s", code, out)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, _ := runCmd(t, args...)
		if code != 0 || !strings.HasPrefix(out, "helpdeskd ") || !strings.Contains(out, "(commit ") || strings.Count(out, "\n") != 1 {
			t.Errorf("%v: %d %q", args, code, out)
		}
	}
}

func TestCommandsNeedAnExistingDatabase(t *testing.T) {
	cfg := exampleConfig(t)
	db := filepath.Join(filepath.Dir(cfg), "hd.db")
	for _, f := range []string{db, db + "-wal", db + "-shm"} {
		os.Remove(f)
	}
	code, out, errs := runCmd(t, "case", "list", "--config", cfg)
	want := fmt.Sprintf("helpdeskd: database %s does not exist (run serve first, or check [database] path)\n", db)
	if code != 1 || out != "" || errs != want {
		t.Errorf("exit %d out %q err %q\nwant err %q", code, out, errs, want)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("case list created %s", db)
	}
}

func TestBackupCommand(t *testing.T) {
	cfg := exampleConfig(t)
	if code, _, errs := runCmd(t, "case", "open", "--config", cfg, "--company", "ACME", "--contact", "Alice",
		"--email", "alice@acme.test", "--severity", "2", "--subject", "Printer down", "--body", "It broke."); code != 0 {
		t.Fatalf("case open: %s", errs)
	}
	bak := filepath.Join(t.TempDir(), "copy.db")
	code, out, errs := runCmd(t, "backup", bak, "--config", cfg)
	if code != 0 || !strings.Contains(out, bak) {
		t.Fatalf("backup: %d %q %q", code, out, errs)
	}
	db, err := store.OpenExisting(context.Background(), bak)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = db.Read(context.Background(), func(tx *store.Txn) error {
		c, err := tx.Case(1)
		if err == nil && c.Subject != "Printer down" {
			t.Errorf("backup case 1 = %q", c.Subject)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if code, _, errs := runCmd(t, "backup", bak, "--config", cfg); code != 1 || !strings.Contains(errs, "exists") {
		t.Errorf("backup over an existing file: %d %q", code, errs)
	}
	if code, _, _ := runCmd(t, "backup", "--config", cfg); code != 2 {
		t.Errorf("backup without FILE: exit %d", code)
	}
}

// TestCheckOnlineErrorsOnce: a refused login is printed once, at the key
// the password came from, with a hint; the exit line only counts.
func TestCheckOnlineErrorsOnce(t *testing.T) {
	srv, err := testmail.Start(testmail.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.AddUser("support@example.com", "right")
	dir := t.TempDir()
	cfgText := fmt.Sprintf(`[mailbox]
address = %q
tls = "none"
username = "support@example.com"
password_env = "HD_TEST_IMAP_PW"

[smtp]
address = %q
tls = "none"
from = "Support <support@example.com>"

[database]
path = %q

[plans.5x8]
calendar = "always"

[[staff]]
name = "Wang Wei"
email = "eng1@example.com"
roles = ["engineer", "specialist", "customer_service_manager"]
regions = ["north"]

[[customers]]
company = "ACME"
domains = ["acme.test"]
plan = "5x8"
region = "north"
`, srv.IMAPAddr, srv.SMTPAddr, filepath.Join(dir, "hd.db"))
	cfg := filepath.Join(dir, "helpdeskd.toml")
	os.WriteFile(cfg, []byte(cfgText), 0o600)
	t.Setenv("HD_TEST_IMAP_PW", "wrong")
	code, out, errs := runCmd(t, "check", "--config", cfg)
	if code != 1 {
		t.Fatalf("exit %d\n%s%s", code, out, errs)
	}
	prefix := cfg + ":5: mailbox.password_env: IMAP login refused: "
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.Contains(l, "warning") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 || !strings.HasPrefix(lines[0], prefix) || !strings.Contains(lines[0], "check mailbox.username") {
		t.Errorf("stdout:\n%s\nwant one line starting %q", out, prefix)
	}
	if strings.Contains(errs, "IMAP login refused") || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, "1 server problem(s)") {
		t.Errorf("stderr repeats or lacks the count: %q", errs)
	}
	t.Setenv("HD_TEST_IMAP_PW", "right")
	if code, out, errs := runCmd(t, "check", "--config", cfg); code != 0 || !strings.HasSuffix(out, cfg+": ok\n") {
		t.Errorf("good password: %d\n%s%s", code, out, errs)
	}
}
