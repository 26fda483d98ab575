package desk

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"helpdeskd/cases"
	"helpdeskd/mailin"
	"helpdeskd/mailin/dsn"
)

// Issue 11: every bounce of the reader's corpus that names one of our
// Message-IDs anywhere is found as a delivery report about that case, by
// the same calls the desk makes (robot rules or the bounce look, then the
// reader, then the case number in our Message-ID).
func TestBounceCorpusFindsItsCase(t *testing.T) {
	files, err := filepath.Glob("../mailin/dsn/testdata/*.eml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus: %v", err)
	}
	ours := regexp.MustCompile(`case-(\d+)\.[a-z_]+\.[0-9a-f]+@([a-z.]+)`)
	bounces, found := 0, 0
	for _, f := range files {
		var side struct {
			Bounce bool `json:"bounce"`
		}
		b, err := os.ReadFile(strings.TrimSuffix(f, ".eml") + ".json")
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &side); err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m := ours.FindSubmatch(raw)
		if !side.Bounce || m == nil {
			continue
		}
		bounces++
		msg, perr := mailin.Parse(strings.NewReader(string(raw)), mailin.ParseOptions{})
		looked := perr == nil && (msg.Auto != "" || msg.NullSender) || dsn.LooksLikeBounce(raw)
		r, ok := dsn.Read(raw)
		var hit bool
		if ok {
			for _, id := range r.MessageIDs {
				if n, ok := cases.CaseFromMessageID(id, string(m[2])); ok && string(m[1]) == strconv.FormatInt(n, 10) {
					hit = true
				}
			}
		}
		if looked && hit {
			found++
		} else {
			t.Errorf("%s: looked at as a bounce %v, read %v, case found %v", filepath.Base(f), looked, ok, hit)
		}
	}
	t.Logf("bounces naming our Message-ID: %d of %d land on their case", found, bounces)
	if bounces < 50 {
		t.Errorf("only %d bounces in the corpus", bounces)
	}
}
