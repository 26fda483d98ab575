package dsn

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// readWithin runs Read on raw and fails the test if it does not return
// within d: Read must terminate on any input.
func readWithin(t *testing.T, raw []byte, d time.Duration) (*Report, bool) {
	t.Helper()
	type res struct {
		r  *Report
		ok bool
	}
	done := make(chan res, 1)
	go func() {
		r, ok := Read(raw)
		done <- res{r, ok}
	}()
	select {
	case x := <-done:
		return x.r, x.ok
	case <-time.After(d):
		t.Fatalf("Read did not return within %v", d)
		return nil, false
	}
}

const dsnHead = "From: MAILER-DAEMON@mail.example.net\nTo: helpdesk@helpdesk.example.com\nSubject: Undelivered Mail Returned to Sender\n" +
	"MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"B\"\n\n"

const dsnStatus = "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mail.example.net\n\n" +
	"Final-Recipient: rfc822; bob@acme.test\nAction: failed\nStatus: 5.1.1\n"

func TestReadDamagedMIME(t *testing.T) {
	deep := dsnHead
	for i := 0; i < 2000; i++ {
		deep += fmt.Sprintf("--%s\nContent-Type: multipart/mixed; boundary=\"b%d\"\n\n", map[bool]string{true: "B", false: fmt.Sprintf("b%d", i-1)}[i == 0], i)
	}
	many := dsnHead + strings.Repeat("--B\nContent-Type: text/plain\n\nx\n", 20000) + dsnStatus
	tests := []struct {
		name   string
		raw    string
		ok     bool
		rcpt   string
		status string
	}{
		{"no closing boundary", dsnHead + dsnStatus, true, "bob@acme.test", "5.1.1"},
		{"closing boundary only in a nested part", dsnHead + "--B\nContent-Type: multipart/alternative; boundary=\"I\"\n\n--I\nContent-Type: text/plain\n\nhello\n" + dsnStatus, true, "bob@acme.test", "5.1.1"},
		{"boundary never appears", strings.Replace(dsnHead, `boundary="B"`, `boundary="ZZZ"`, 1) + dsnStatus, true, "bob@acme.test", "5.1.1"},
		{"deep nesting", deep, false, "", ""},
		{"twenty thousand parts", many, false, "", ""},
		{"unknown transfer encoding at the top", strings.Replace(dsnHead, "MIME-Version: 1.0\n", "MIME-Version: 1.0\nContent-Transfer-Encoding: x-uuencode\n", 1) + dsnStatus + "--B--\n", true, "bob@acme.test", "5.1.1"},
		{"bad base64 in the status part", dsnHead + "--B\nContent-Type: message/delivery-status\nContent-Transfer-Encoding: base64\n\n!!!!not base64!!!!\n--B--\n", true, "", ""},
		{"empty", "", false, "", ""},
		{"only line ends", "\r\r\r\n\n\r", false, "", ""},
		{"NUL and invalid UTF-8", "From: MAILER-DAEMON@x.test\nSubject: failure notice \xff\xfe\n\nHi. This is the qmail-send program at x.test.\n\n<bob@acme.test>:\nSorry \x00 no \xff\xfe mailbox (#5.1.1)\n", true, "bob@acme.test", "5.1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, ok := readWithin(t, []byte(tt.raw), 10*time.Second)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v (%+v)", ok, tt.ok, r)
			}
			if !ok || tt.rcpt == "" {
				return
			}
			if len(r.Recipients) == 0 || r.Recipients[0].Addr != tt.rcpt || r.Recipients[0].Status != tt.status {
				t.Errorf("recipients %+v, want %s %s", r.Recipients, tt.rcpt, tt.status)
			}
		})
	}
}

func TestReadHugeInputIsBounded(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("From: MAILER-DAEMON@x.test\nSubject: failure notice\n\nHi. This is the qmail-send program at x.test.\n\n")
	for b.Len() < maxRaw+(1<<20) {
		b.WriteString("<u@acme.test>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n")
	}
	r, ok := readWithin(t, b.Bytes(), 30*time.Second)
	if !ok {
		t.Fatal("not read as a bounce")
	}
	if len(r.Recipients) != 1 || r.Recipients[0].Addr != "u@acme.test" {
		t.Errorf("recipients %v, want one u@acme.test", len(r.Recipients))
	}
}

func TestPermanentDelayed(t *testing.T) {
	tests := []struct {
		name          string
		rcpts         []Recipient
		perm, delayed bool
	}{
		{"failed", []Recipient{{Action: "failed", Status: "5.1.1"}}, true, false},
		{"failed after retries with a 4.x.x status", []Recipient{{Action: "failed", Status: "4.4.7"}}, true, false},
		{"delayed", []Recipient{{Action: "delayed", Status: "4.4.1"}}, false, true},
		{"delayed and failed", []Recipient{{Action: "delayed", Status: "4.4.1"}, {Action: "failed", Status: "5.2.2"}}, true, false},
		{"5.x.x without an action", []Recipient{{Status: "5.0.0"}}, true, false},
		{"delivered", []Recipient{{Action: "delivered", Status: "2.0.0"}}, false, false},
		{"relayed", []Recipient{{Action: "relayed", Status: "2.0.0"}}, false, false},
		{"nothing", nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Report{Recipients: tt.rcpts}
			if got := r.Permanent(); got != tt.perm {
				t.Errorf("Permanent() = %v, want %v", got, tt.perm)
			}
			if got := r.Delayed(); got != tt.delayed {
				t.Errorf("Delayed() = %v, want %v", got, tt.delayed)
			}
		})
	}
}

func TestFindStatus(t *testing.T) {
	tests := map[string]string{
		"smtp; 550 5.1.1 <a@b.test>: User unknown":              "5.1.1",
		"550-5.1.1 The email account does not exist":            "5.1.1",
		"Sorry, no mailbox here by that name. (#5.1.1)":         "5.1.1",
		"#550 5.1.10 RESOLVER.ADR.RecipientNotFound":            "5.1.10",
		"5.0.0 (permanent failure)":                             "5.0.0",
		"host mx.test[192.0.2.1] said: 550 5.7.1 spam":          "5.7.1",
		"connect to 203.0.113.44:25: timed out":                 "",
		"Courier mail server, version 0.78.1":                   "",
		"on 2.12.2026 at 10:00":                                 "",
		"<mx.test #5.0.0 smtp; 554 5.4.4 Domain Lookup Failed>": "5.4.4",
	}
	for in, want := range tests {
		if got := findStatus(in); got != want {
			t.Errorf("findStatus(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAddrOf(t *testing.T) {
	tests := map[string]string{
		"rfc822; Bob@ACME.test":             "bob@acme.test",
		"RFC822;<bob@acme.test>":            "bob@acme.test",
		"rfc822;bob@acme.test (Bob)":        "bob@acme.test",
		`utf-8; j\x{F6}rg@b\x{FC}cher.test`: "jörg@bücher.test",
		`utf-8; bad\x{D800}@x.test`:         `bad\x{d800}@x.test`,
		"x-local; postmaster":               "postmaster",
	}
	for in, want := range tests {
		if got := addrOf(in); got != want {
			t.Errorf("addrOf(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDeliveryStatusGrouping: recipients are told apart however the
// per-recipient fields are ordered and separated (RFC 3464 2.1, and what
// MTAs do instead).
func TestDeliveryStatusGrouping(t *testing.T) {
	tests := []struct {
		name string
		ds   string
		want []string // addr/action/status
	}{
		{"postfix order, final before original",
			"Reporting-MTA: dns; m.test\n\nFinal-Recipient: rfc822; a@x.test\nOriginal-Recipient: rfc822;team@x.test\nAction: failed\nStatus: 5.1.1\n\nFinal-Recipient: rfc822; b@x.test\nOriginal-Recipient: rfc822;team@x.test\nAction: delayed\nStatus: 4.4.1\n",
			[]string{"a@x.test/failed/5.1.1", "b@x.test/delayed/4.4.1"}},
		{"original before final",
			"Reporting-MTA: dns; m.test\n\nOriginal-Recipient: rfc822;a@x.test\nFinal-Recipient: rfc822;a@x.test\nAction: failed\nStatus: 5.0.0\n\nOriginal-Recipient: rfc822;b@x.test\nFinal-Recipient: rfc822;b@x.test\nAction: failed\nStatus: 5.2.2\n",
			[]string{"a@x.test/failed/5.0.0", "b@x.test/failed/5.2.2"}},
		{"no blank lines at all",
			"Reporting-MTA: dns; m.test\nFinal-Recipient: rfc822; a@x.test\nAction: failed\nStatus: 5.1.1\nFinal-Recipient: rfc822; b@x.test\nAction: failed\nStatus: 5.1.2\n",
			[]string{"a@x.test/failed/5.1.1", "b@x.test/failed/5.1.2"}},
		{"action before final (Exim)",
			"Reporting-MTA: dns; m.test\n\nAction: failed\nFinal-Recipient: rfc822;a@x.test\nStatus: 5.0.0\n",
			[]string{"a@x.test/failed/5.0.0"}},
		{"folded diagnostic gives the status",
			"Reporting-MTA: dns; m.test\n\nFinal-Recipient: rfc822; a@x.test\nAction: failed\nDiagnostic-Code: smtp; 550\n 5.1.1 <a@x.test>: unknown\n",
			[]string{"a@x.test/failed/5.1.1"}},
		{"CRLF and junk lines",
			"Reporting-MTA: dns; m.test\r\nthis is junk\r\n\r\nFinal-Recipient: rfc822; a@x.test\r\nAction: failed\r\nStatus: 5.1.1\r\n",
			[]string{"a@x.test/failed/5.1.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &Report{}
			readDeliveryStatus(textOf([]byte(tt.ds)), r)
			r.finish()
			var got []string
			for _, rc := range r.Recipients {
				got = append(got, rc.Addr+"/"+rc.Action+"/"+rc.Status)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if r.ReportingMTA != "m.test" {
				t.Errorf("ReportingMTA %q", r.ReportingMTA)
			}
		})
	}
}

// TestLooksLikeBounce: the cheap header check says yes to most corpus
// bounces and no to all the mail people wrote.
func TestLooksLikeBounce(t *testing.T) {
	bounces, said := 0, 0
	for _, f := range loadCorpus(t) {
		got := LooksLikeBounce(f.raw)
		if f.exp.Bounce {
			bounces++
			if got {
				said++
			}
			continue
		}
		if got && strings.HasPrefix(f.name, "not-human-") {
			t.Errorf("%s: a person's mail looks like a bounce", f.name)
		}
	}
	t.Logf("LooksLikeBounce: %d/%d corpus bounces", said, bounces)
	if said*10 < bounces*9 {
		t.Errorf("LooksLikeBounce recognised only %d of %d bounces", said, bounces)
	}
}

func TestDiagnosticBounded(t *testing.T) {
	long := strings.Repeat("very long reason ", 200)
	raw := dsnHead + "--B\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; m.test\n\nFinal-Recipient: rfc822; a@x.test\nAction: failed\nStatus: 5.1.1\nDiagnostic-Code: smtp; 550 5.1.1 " + long + "\n--B--\n"
	r, ok := Read([]byte(raw))
	if !ok || len(r.Recipients) != 1 {
		t.Fatalf("ok %v, %+v", ok, r)
	}
	d := r.Recipients[0].Diagnostic
	if n := utf8.RuneCountInString(d); n > maxDiag || n < maxDiag-20 {
		t.Errorf("diagnostic of %d runes, want about %d", n, maxDiag)
	}
	if strings.ContainsAny(d, "\r\n") {
		t.Errorf("diagnostic spans lines: %q", d)
	}
}

// TestTextIDs: Message-IDs in report text are found however they are
// written, most reliable first, and addresses are not taken for them.
func TestTextIDs(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"labelled, other case, quoted", "> message-id: <a.1@x.test>\n", []string{"a.1@x.test"}},
		{"folded onto the next line", "Message-ID:\n <a.2@x.test>\nSubject: hi\n", []string{"a.2@x.test"}},
		{"no angle brackets", "Message-Id: a.3@x.test\n", []string{"a.3@x.test"}},
		{"labelled before references before loose", "ref <loose@x.test>\nReferences: <r1@x.test>\n <r2@x.test>\nMessage-ID: <m@x.test>\n", []string{"m@x.test", "r2@x.test", "r1@x.test", "loose@x.test"}},
		{"addresses are not ids", "To: Bob <bob@acme.test>\nRCPT TO:<carol@acme.test>\nmailto:<dan@acme.test>\n<id.9@x.test>\n", []string{"id.9@x.test"}},
		{"Exchange mailto", "judy@litware.test<mailto:judy@litware.test>\n", nil},
		{"Gmail X-Original-Message-ID", "X-Original-Message-ID: <g@x.test>\n", []string{"g@x.test"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l idList
			l.textIDs([]string{tt.text})
			l.looseIDs([]string{tt.text})
			if strings.Join(l.ids, " ") != strings.Join(tt.want, " ") {
				t.Errorf("ids %q, want %q", l.ids, tt.want)
			}
		})
	}
}

// The header read from a prefix is the header read from the whole mail:
// the corpus, and headers that end right at, just before or just after a
// place where the prefix is cut, with CRLF, LF and bare CR line ends.
func TestHeaderPrefixReadsTheWholeHeader(t *testing.T) {
	var inputs [][]byte
	for _, f := range loadCorpus(t) {
		inputs = append(inputs, f.raw)
	}
	for _, eol := range []string{"\r\n", "\n", "\r"} {
		for _, cut := range []int{4 << 10, 16 << 10, 64 << 10} {
			for d := -3; d <= 3; d++ {
				var b strings.Builder
				b.WriteString("From: a@example.com" + eol + "Subject: x" + eol)
				for b.Len() < cut+d-len("X-Pad: "+eol) {
					fmt.Fprintf(&b, "X-Pad: %s%s", strings.Repeat("p", min(60, cut+d-b.Len())), eol)
				}
				b.WriteString(eol + strings.Repeat("body line"+eol, 20000))
				inputs = append(inputs, []byte(b.String()))
			}
		}
		inputs = append(inputs, []byte(strings.Repeat("no header at all"+eol, 10000)))
	}
	for i, raw := range inputs {
		whole, _ := splitHeader(normalize(raw))
		pre, _ := splitHeader(headerPrefix(raw))
		if !bytes.Equal(whole, pre) {
			t.Errorf("input %d: header from the prefix has %d bytes, from the whole %d", i, len(pre), len(whole))
		}
	}
}
