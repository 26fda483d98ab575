package mailout

import (
	"bytes"
	"mime"
	"net/mail"
	"strings"
	"testing"

	"helpdeskd/cases"
	"helpdeskd/mailin"
)

// Issue 13: every mail's subject has no leading or trailing white space,
// read by our own parser and by net/mail's simple unfolding.
func TestSubjectHasNoLeadingSpace(t *testing.T) {
	for _, subj := range []string{
		"已分派给您 [Case#1] 打印机故障",
		"Escalated [Case#12] Printer down",
		"升级 [Case#12] Printer down and a very long subject line that needs folding across several lines 很长的主题，还有更多的中文文字",
		"  padded  [Case#3]  x ",
	} {
		m, err := Build(cases.Outgoing{To: []string{"a@example.com"}, Subject: subj, Text: "x", MessageID: "x@example.com"},
			&mail.Address{Address: "support@example.com"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if _, err := m.WriteTo(&b); err != nil {
			t.Fatal(err)
		}
		want := strings.Join(strings.Fields(subj), " ")
		for _, l := range strings.Split(b.String(), "\r\n") {
			if strings.HasPrefix(l, "Subject:") && strings.TrimSpace(strings.TrimPrefix(l, "Subject:")) == "" {
				t.Errorf("%q: Subject folded right after the colon", subj)
			}
		}
		msg, err := mailin.Parse(bytes.NewReader(b.Bytes()), mailin.ParseOptions{})
		if err != nil || msg.Subject != want {
			t.Errorf("mailin reads %q (%v), want %q", msg.Subject, err, want)
		}
		nm, err := mail.ReadMessage(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		raw := nm.Header.Get("Subject")
		got, err := new(mime.WordDecoder).DecodeHeader(raw)
		if err != nil || got != want {
			t.Errorf("net/mail reads %q (raw %q, %v), want %q", got, raw, err, want)
		}
		if strings.TrimSpace(raw) != raw {
			t.Errorf("raw subject %q has surrounding space", raw)
		}
	}
}
