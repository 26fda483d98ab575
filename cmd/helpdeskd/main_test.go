package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helpdeskd/store"
)

func runCmd(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

func exampleConfig(t testing.TB) string {
	t.Helper()
	src, err := os.ReadFile("../../config.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cfg := strings.Replace(string(src), `path = "helpdeskd.db"`, `path = "`+filepath.Join(dir, "hd.db")+`"`, 1)
	p := filepath.Join(dir, "helpdeskd.toml")
	os.WriteFile(p, []byte(cfg), 0o600)
	// serve creates the database; the other commands need it to exist.
	db, err := store.Create(context.Background(), filepath.Join(dir, "hd.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	return p
}

func TestSLAJSON(t *testing.T) {
	cfg := exampleConfig(t)
	// ACME is on the 5x8 office calendar (Asia/Shanghai, 09:00-12:00, 13:30-18:00).
	code, out, errs := runCmd(t, "sla", "--customer", "alice@acme.test", "--severity", "2", "--at", "2026-11-26T09:00:00+08:00", "--json", "--config", cfg)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"respond_by":      "2026-11-26T14:30:00+08:00", // 3h before lunch + 1h after
		"solve_online_by": "2026-11-27T09:30:00+08:00", // 7.5h Thursday + 0.5h Friday
		"onsite_by":       "2026-12-01T18:00:00+08:00", // 3 working days after Thursday: Fri, Mon, Tue
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %s, want %s", k, got[k], v)
		}
	}
}

func TestUsageAndErrors(t *testing.T) {
	cfg := exampleConfig(t)
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"no command", nil, 2},
		{"unknown command", []string{"frob"}, 2},
		{"bad flag", []string{"case", "list", "--nope", "--config", cfg}, 2},
		{"sla missing flags", []string{"sla", "--config", cfg}, 2},
		{"show missing case", []string{"case", "show", "99", "--config", cfg}, 1},
		{"flags after args", []string{"case", "show", "99", "--json", "--config", cfg}, 1},
		{"flags before args", []string{"case", "show", "--json", "--config", cfg, "99"}, 1},
		{"list", []string{"case", "list", "--json", "--config", cfg}, 0},
		{"check offline", []string{"check", "--offline", "--config", cfg}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := runCmd(t, tt.args...)
			if code != tt.code {
				t.Errorf("exit %d, want %d (%s)", code, tt.code, errs)
			}
			if code == 1 && strings.Count(strings.TrimSpace(errs), "\n") != 0 {
				t.Errorf("error is not one line: %q", errs)
			}
		})
	}
}

func TestFlagsAnywhereAndBadInput(t *testing.T) {
	cfg := exampleConfig(t)
	code, out, errs := runCmd(t, "--config", cfg, "case", "open", "--company", "ACME", "--contact", "Alice",
		"--email", "alice@acme.test", "--severity", "2", "--subject", "Printer down", "--body", "It broke.")
	if code != 0 || strings.TrimSpace(out) != "1" {
		t.Fatalf("case open with --config first: exit %d out %q err %q", code, out, errs)
	}
	code, out, _ = runCmd(t, "case", "--config", cfg, "show", "1", "--json")
	if code != 0 || !strings.Contains(out, `"subject": "Printer down"`) || !strings.Contains(out, `"kind": "opened"`) {
		t.Fatalf("case show with --config between words: %d %s", code, out)
	}
	var c map[string]any
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatal(err)
	}
	d := c["deadlines"].(map[string]any)
	if d["onsite_by"] != nil || !strings.HasSuffix(d["respond_by"].(string), "+08:00") {
		t.Errorf("deadlines = %v", d)
	}
	if code, _, _ := runCmd(t, "case", "open", "--config", cfg, "--company", "ACME", "--contact", "A", "--email", "not-an-address",
		"--severity", "2", "--subject", "x", "--body", "x"); code != 2 {
		t.Errorf("bad --email: exit %d, want 2", code)
	}
	if code, _, _ := runCmd(t, "check", "--offline", cfg, "extra"); code != 2 {
		t.Errorf("extra argument to check: exit %d, want 2", code)
	}
	bad := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(bad, []byte("[mailbox]\nfoo = 1\nbar = 2\n"), 0o600)
	code, _, errs = runCmd(t, "case", "list", "--config", bad)
	if code != 1 || strings.Count(strings.TrimSpace(errs), "\n") != 0 || !strings.Contains(errs, "more; run helpdeskd check") {
		t.Errorf("bad config: exit %d, stderr %q", code, errs)
	}
	code, out, _ = runCmd(t, "check", "--offline", "--config", bad)
	if code != 1 || !strings.Contains(out, "bad.toml:2: mailbox.foo: unknown key") || !strings.Contains(out, "bad.toml:3: mailbox.bar: unknown key") {
		t.Errorf("check: exit %d, out %q", code, out)
	}
}

func TestQuarantineCommands(t *testing.T) {
	cfg := exampleConfig(t)
	if code, out, errs := runCmd(t, "quarantine", "list", "--json", "--config", cfg); code != 0 || strings.TrimSpace(out) != "[]" {
		t.Fatalf("empty list: %d %q %q", code, out, errs)
	}
	if code, _, _ := runCmd(t, "quarantine", "replay", "7", "--config", cfg); code != 1 {
		t.Errorf("replay of a missing message: exit %d, want 1", code)
	}
	if code, _, _ := runCmd(t, "quarantine", "replay", "--config", cfg); code != 2 {
		t.Errorf("replay without id: exit %d, want 2", code)
	}
}
