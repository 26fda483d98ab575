package mailin

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// decodeExpect is the sidecar NAME.json of testdata/decode/NAME.eml: what
// a careful reader makes of the message.
type decodeExpect struct {
	Subject      string   `json:"subject"`
	FromName     string   `json:"from_name"`
	FromAddr     string   `json:"from_addr"`
	Text         string   `json:"text"`                    // compared without trailing white space
	HTMLContains string   `json:"html_contains,omitempty"` // a piece of Message.HTML
	Attachments  []string `json:"attachments,omitempty"`   // file names, in order
	Problem      string   `json:"problem,omitempty"`       // a piece of one of Message.Problems
}

// TestDecodeCorpus parses the messages in testdata/decode, written the way
// real clients write them (legacy charsets, mislabelled and undeclared
// text, broken headers, odd line ends), and checks the decoded subject,
// sender and text against the sidecar. It reports the share of fields
// decoded as expected; every field must be.
func TestDecodeCorpus(t *testing.T) {
	runDecodeCorpus(t, "decode", 60)
}

// TestDecodeBlindCorpus runs testdata/decode-blind, messages written
// without looking at the parser, and reports the share decoded as
// expected; every field must be.
func TestDecodeBlindCorpus(t *testing.T) {
	runDecodeCorpus(t, "decode-blind", 30)
}

// runDecodeCorpus checks every NAME.eml of testdata/dir against its
// NAME.json and logs the share of fields decoded as expected.
func runDecodeCorpus(t *testing.T, dir string, min int) {
	files := corpusFiles(t, dir)
	if len(files) < min {
		t.Fatalf("%s corpus has %d messages, want at least %d", dir, len(files), min)
	}
	fields, good := 0, 0
	check := func(name, what string, ok bool, got, want any) {
		fields++
		if ok {
			good++
			return
		}
		t.Errorf("%s: %s = %q, want %q", name, what, got, want)
	}
	for _, f := range files {
		name := filepath.Base(f)
		side, err := os.ReadFile(filepath.Join("testdata", strings.TrimSuffix(f, ".eml")+".json"))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		var want decodeExpect
		if err := json.Unmarshal(side, &want); err != nil {
			t.Errorf("%s.json: %v", name, err)
			continue
		}
		m := parseTestFile(t, f)
		check(name, "Subject", m.Subject == want.Subject, m.Subject, want.Subject)
		check(name, "From.Name", m.From.Name == want.FromName, m.From.Name, want.FromName)
		check(name, "From.Addr", m.From.Addr == want.FromAddr, m.From.Addr, want.FromAddr)
		text := strings.TrimRight(m.Text, " \t\n")
		check(name, "Text", text == strings.TrimRight(want.Text, " \t\n"), text, want.Text)
		if want.HTMLContains != "" {
			check(name, "HTML", strings.Contains(m.HTML, want.HTMLContains), m.HTML, want.HTMLContains)
		}
		if want.Attachments != nil {
			got := strings.Join(parseAttachmentNames(m), "|")
			check(name, "Attachments", got == strings.Join(want.Attachments, "|"), got, strings.Join(want.Attachments, "|"))
		}
		if want.Problem != "" {
			found := false
			for _, p := range m.Problems {
				found = found || strings.Contains(p, want.Problem)
			}
			check(name, "Problems", found, strings.Join(m.Problems, "; "), want.Problem)
		}
	}
	t.Logf("%s: %d messages, %d/%d fields as expected (%.1f%%)", dir, len(files), good, fields, 100*float64(good)/float64(fields))
}
