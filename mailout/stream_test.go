package mailout

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"
)

// bodyFile is an attachment in a file, as the desk relays a large one; it
// records that the sender closed it.
type bodyFile struct {
	*os.File
	closed bool
}

func (b *bodyFile) Close() error { b.closed = true; return b.File.Close() }

func newBodyFile(t *testing.T, data []byte) *bodyFile {
	t.Helper()
	p := filepath.Join(t.TempDir(), "att")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	return &bodyFile{File: f}
}

// attachmentOf reads the attachment named name out of a received mail.
func attachmentOf(t *testing.T, raw []byte, name string) ([]byte, string) {
	t.Helper()
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var text string
	var data []byte
	found := false
	for {
		p, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(p.Body)
		if err != nil {
			t.Fatal(err)
		}
		switch h := p.Header.(type) {
		case *mail.InlineHeader:
			text += string(b)
		case *mail.AttachmentHeader:
			if fn, _ := h.Filename(); fn == name {
				data, found = b, true
			}
		}
	}
	if !found {
		t.Fatalf("no attachment %q in:\n%.2000s", name, raw)
	}
	return data, text
}

// A large attachment (a File with a Body) is streamed into the mail: the
// customer receives the same bytes, beside a small one and the text, with
// the headers of any mail; the file is closed after the attempt.
func TestStreamedAttachment(t *testing.T) {
	fs := startFaultServer(t)
	data := make([]byte, 3<<20+17) // not a whole number of base64 lines
	for i := range data {
		data[i] = byte(i*7 + i>>12)
	}
	body := newBodyFile(t, data)
	m := outgoing(1, "alice@acme.test")
	m.Attachments = []int64{5, 6}
	o := newOutbox(m, outgoing(2, "bob@acme.test"))
	o.files[5] = File{Name: "build.bin", ContentType: "application/octet-stream", Body: body}
	o.files[6] = File{Name: "notes.txt", ContentType: "text/plain", Data: []byte("small notes")}
	s := newSender(fs, o, start())
	s.Connections = 1
	drain(t, s)
	if got := o.calls("sent"); len(got) != 2 {
		t.Fatalf("sent %v, log %v", got, o.log)
	}
	var raw []byte
	for _, c := range fs.messages() {
		if c.To[0] == "alice@acme.test" {
			raw = c.Data
		}
	}
	for _, want := range []string{"Message-ID: <case-7.ack.1@example.com>", "In-Reply-To: <orig@acme.test>", "Auto-Submitted: auto-replied"} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Errorf("mail lacks %q", want)
		}
	}
	got, text := attachmentOf(t, raw, "build.bin")
	if !bytes.Equal(got, data) {
		t.Errorf("streamed attachment: %d bytes received, want %d", len(got), len(data))
	}
	if small, _ := attachmentOf(t, raw, "notes.txt"); string(small) != "small notes" {
		t.Errorf("small attachment %q", small)
	}
	if !strings.Contains(text, "您好，已收到。") {
		t.Errorf("text %q", text)
	}
	for _, line := range strings.Split(string(raw), "\r\n") {
		if len(line) > 78 {
			t.Fatalf("a line of %d characters (RFC 5322 2.1.1)", len(line))
		}
	}
	if r := o.last(1); r.Code != 250 || r.Err != nil {
		t.Errorf("result %+v", r)
	}
	if !body.closed {
		t.Error("the attachment file was not closed")
	}
	// The streamed mail had a connection of its own; go-mail's one
	// connection, which would have buffered the whole part, sent the
	// other.
	if sessions, _ := fs.counts(); sessions != 2 {
		t.Errorf("%d sessions, want 2", sessions)
	}
}

// Every recipient of a streamed mail is tried and the last refusal
// decides, as for any mail: a 550 for the customer and a 452 for the
// liaison in copy is tried again.
func TestStreamedAttachmentLastRefusalDecides(t *testing.T) {
	fs := startFaultServer(t)
	fs.rcpt = func(to string) error {
		if to == "alice@acme.test" {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return &smtp.SMTPError{Code: 452, EnhancedCode: smtp.EnhancedCode{4, 2, 2}, Message: "mailbox full"}
	}
	m := outgoing(1, "alice@acme.test")
	m.Cc = []string{"liaison@example.com"}
	m.Attachments = []int64{5}
	o := newOutbox(m)
	o.files[5] = File{Name: "build.bin", Body: newBodyFile(t, bytes.Repeat([]byte("x"), 2<<20))}
	drain(t, newSender(fs, o, start()))
	if r := o.last(1); len(o.calls("retry")) != 1 || r.Code != 452 || r.Err == nil || !r.Err.Temporary || r.Err.Reply != "452 4.2.2 mailbox full" {
		t.Fatalf("log %v, result %+v, err %+v", o.log, r, r.Err)
	}
}

// A refusal while a streamed mail is sent is recorded like any other: its
// code, enhanced status and stage, temporary or not.
func TestStreamedAttachmentRefused(t *testing.T) {
	for _, tc := range []struct {
		stage   Stage
		code    int
		outcome string
	}{
		{StageRcpt, 550, "failed"},
		{StageData, 451, "retry"},
	} {
		t.Run(string(tc.stage), func(t *testing.T) {
			fs := startFaultServer(t)
			fail := &smtp.SMTPError{Code: tc.code, EnhancedCode: smtp.EnhancedCode{tc.code / 100, 1, 1}, Message: "injected"}
			if tc.stage == StageRcpt {
				fs.rcpt = func(string) error { return fail }
			} else {
				fs.data = func([]string, []byte) error { return fail }
			}
			m := outgoing(1, "alice@acme.test")
			m.Attachments = []int64{5}
			o := newOutbox(m)
			o.files[5] = File{Name: "build.bin", Body: newBodyFile(t, bytes.Repeat([]byte("x"), 2<<20))}
			s := newSender(fs, o, start())
			drain(t, s)
			if got := o.calls(tc.outcome); len(got) != 1 {
				t.Fatalf("log %v, want %s", o.log, tc.outcome)
			}
			r := o.last(1)
			if want := fmt.Sprintf("%d.1.1", tc.code/100); r.Err == nil || r.Err.Stage != tc.stage || r.Code != tc.code ||
				r.Err.Temporary != (tc.outcome == "retry") || r.Enhanced != want {
				t.Fatalf("result %+v, err %+v", r, r.Err)
			}
		})
	}
}
