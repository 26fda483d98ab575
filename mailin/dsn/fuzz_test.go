package dsn

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzRead: Read never panics, returns, and gives only valid UTF-8,
// bounded values; the same input gives the same report. Seeded from the
// corpus (go test -fuzz=FuzzRead ./mailin/dsn).
func FuzzRead(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(dsnHead + dsnStatus))
	f.Fuzz(func(t *testing.T, raw []byte) {
		_ = LooksLikeBounce(raw)
		r, ok := readWithin(t, raw, 10*time.Second)
		if !ok {
			if r != nil {
				t.Fatal("report with ok false")
			}
			return
		}
		valid := func(what, s string) {
			if !utf8.ValidString(s) {
				t.Fatalf("%s not valid UTF-8: %q", what, s)
			}
		}
		valid("form", r.Form)
		valid("subject", r.Subject)
		valid("reporting mta", r.ReportingMTA)
		valid("sender", r.Sender)
		if r.Form == "" {
			t.Fatal("no form")
		}
		if len(r.MessageIDs) > maxIDs {
			t.Fatalf("%d message ids", len(r.MessageIDs))
		}
		for _, id := range r.MessageIDs {
			valid("message id", id)
			if id == "" || strings.ContainsAny(id, " \t\r\n<>") || !strings.Contains(id, "@") {
				t.Fatalf("bad message id %q", id)
			}
		}
		for _, rc := range r.Recipients {
			for what, s := range map[string]string{"addr": rc.Addr, "action": rc.Action, "status": rc.Status, "diagnostic": rc.Diagnostic, "remote mta": rc.RemoteMTA} {
				valid(what, s)
				if strings.ContainsAny(s, "\r\n") {
					t.Fatalf("%s spans lines: %q", what, s)
				}
			}
			if utf8.RuneCountInString(rc.Diagnostic) > maxDiag {
				t.Fatalf("diagnostic of %d runes", utf8.RuneCountInString(rc.Diagnostic))
			}
			if rc.Addr != strings.ToLower(rc.Addr) || rc.Action == "" {
				t.Fatalf("recipient %+v", rc)
			}
		}
		r2, ok2 := readWithin(t, raw, 10*time.Second)
		if !ok2 || len(r2.Recipients) != len(r.Recipients) || len(r2.MessageIDs) != len(r.MessageIDs) {
			t.Fatal("second Read differs")
		}
	})
}
