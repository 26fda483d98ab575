package dsn

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// expected is a corpus sidecar: what a careful reader takes from the
// .eml beside it.
type expected struct {
	Bounce     bool   `json:"bounce"`
	Style      string `json:"style"` // the MTA or client that wrote it; for the figures only
	Form       string `json:"form"`
	Recipients []struct {
		Addr   string `json:"addr"`
		Action string `json:"action"`
		Status string `json:"status"`
	} `json:"recipients"`
	MessageIDs []string `json:"message_ids"`
	Subject    *string  `json:"subject"`
	Delayed    bool     `json:"delayed"`
	Note       string   `json:"note"`
}

type fixture struct {
	name string
	raw  []byte
	exp  expected
}

func loadCorpus(t testing.TB) []fixture {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", "*.eml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	var out []fixture
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		js, err := os.ReadFile(strings.TrimSuffix(f, ".eml") + ".json")
		if err != nil {
			t.Fatalf("%s: no expected result: %v", f, err)
		}
		var e expected
		if err := json.Unmarshal(js, &e); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, fixture{strings.TrimSuffix(filepath.Base(f), ".eml"), raw, e})
	}
	return out
}

// check compares what Read made of f with its sidecar and returns every
// difference.
func check(f fixture) []string {
	r, ok := Read(f.raw)
	var bad []string
	if ok != f.exp.Bounce {
		return []string{fmt.Sprintf("ok = %v, want %v", ok, f.exp.Bounce)}
	}
	if !ok {
		return nil
	}
	e := f.exp
	if r.Form != e.Form {
		bad = append(bad, fmt.Sprintf("form %q, want %q", r.Form, e.Form))
	}
	if len(r.Recipients) != len(e.Recipients) {
		bad = append(bad, fmt.Sprintf("%d recipients %+v, want %d", len(r.Recipients), r.Recipients, len(e.Recipients)))
	} else {
		for i, w := range e.Recipients {
			g := r.Recipients[i]
			if g.Addr != w.Addr || g.Action != w.Action || g.Status != w.Status {
				bad = append(bad, fmt.Sprintf("recipient %d = %q %q %q (diag %q), want %q %q %q", i, g.Addr, g.Action, g.Status, g.Diagnostic, w.Addr, w.Action, w.Status))
			}
		}
	}
	if len(e.MessageIDs) > 0 {
		if len(r.MessageIDs) == 0 || r.MessageIDs[0] != e.MessageIDs[0] {
			bad = append(bad, fmt.Sprintf("message ids %q, want %q first", r.MessageIDs, e.MessageIDs[0]))
		}
		for _, id := range e.MessageIDs {
			if !containsStr(r.MessageIDs, id) {
				bad = append(bad, fmt.Sprintf("message ids %q lack %q", r.MessageIDs, id))
			}
		}
	}
	for _, rc := range r.Recipients {
		if rc.Addr != "" && containsStr(r.MessageIDs, rc.Addr) {
			bad = append(bad, fmt.Sprintf("recipient address %q taken for a message id", rc.Addr))
		}
	}
	if e.Subject != nil && r.Subject != *e.Subject {
		bad = append(bad, fmt.Sprintf("subject %q, want %q", r.Subject, *e.Subject))
	}
	if r.Delayed() != e.Delayed {
		bad = append(bad, fmt.Sprintf("Delayed() = %v, want %v", r.Delayed(), e.Delayed))
	}
	wantPerm := false
	for _, w := range e.Recipients {
		if w.Action == "failed" || strings.HasPrefix(w.Status, "5.") {
			wantPerm = true
		}
	}
	if r.Permanent() != wantPerm {
		bad = append(bad, fmt.Sprintf("Permanent() = %v, want %v", r.Permanent(), wantPerm))
	}
	return bad
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestCorpus reads every corpus mail and compares it with its sidecar; it
// logs the share handled per form (go test -v -run TestCorpus).
func TestCorpus(t *testing.T) {
	type tally struct{ n, ok int }
	perForm := map[string]*tally{}
	styles := map[string]bool{}
	total, handled := 0, 0
	for _, f := range loadCorpus(t) {
		key := f.exp.Form
		if !f.exp.Bounce {
			key = "(not a bounce)"
		} else {
			styles[f.exp.Style] = true
		}
		if perForm[key] == nil {
			perForm[key] = &tally{}
		}
		bad := check(f)
		perForm[key].n++
		total++
		if len(bad) == 0 {
			perForm[key].ok++
			handled++
		}
		t.Run(f.name, func(t *testing.T) {
			for _, b := range bad {
				t.Error(b)
			}
		})
	}
	var keys []string
	for k := range perForm {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %-16s %3d/%-3d\n", k, perForm[k].ok, perForm[k].n)
	}
	t.Logf("corpus: %d/%d handled (%.1f%%), %d bounce styles\n%s", handled, total, 100*float64(handled)/float64(total), len(styles), b.String())
}

// BenchmarkReadCorpus reads the whole corpus once per iteration.
func BenchmarkReadCorpus(b *testing.B) {
	fs := loadCorpus(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, f := range fs {
			Read(f.raw)
		}
	}
}
