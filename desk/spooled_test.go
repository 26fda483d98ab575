package desk

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-message"

	"helpdeskd/cases"
	"helpdeskd/mailin"
	"helpdeskd/mailout"
	"helpdeskd/store"
)

// logData is a binary attachment of n bytes.
func logData(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>10)
	}
	return b
}

// attachment is a MIME part (header and base64 body, RFC 2045 6.8) as
// go-message writes it.
func attachment(name, typ string, data []byte) string {
	var h message.Header
	h.Set("Content-Type", typ)
	h.SetContentDisposition("attachment", map[string]string{"filename": name})
	h.Set("Content-Transfer-Encoding", "base64")
	var b bytes.Buffer
	w, err := message.CreateWriter(&b, h)
	if err != nil {
		panic(err)
	}
	w.Write(data)
	w.Close()
	return b.String() + "\r\n"
}

// bigCustomerMail is a customer's mail with a large log attached.
func bigCustomerMail(id string, att []byte) []byte {
	return []byte("From: Alice <alice@acme.test>\r\nTo: support@example.com\r\nSubject: Server crash, log attached\r\n" +
		"Message-ID: <" + id + ">\r\nDate: Thu, 26 Nov 2026 09:00:00 +0800\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"=_m\"\r\n\r\n--=_m\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		"The server crashed at 08:55, the log is attached.\r\n--=_m\r\n" +
		attachment("crash.log.gz", "application/gzip", att) + "--=_m--\r\n")
}

// bigBounce is a delivery report (RFC 3464) for our mail id that returns
// the whole message, a large attachment and all, after the report.
func bigBounce(id string, att []byte) []byte {
	dsn := postfixDSN(id, "alice@acme.test", "failed", "5.1.1")
	returned := "--B\r\nContent-Description: Undelivered Message\r\nContent-Type: message/rfc822\r\n\r\n" +
		"From: Support <support@example.com>\r\nTo: alice@acme.test\r\nSubject: [Case#1] Server crash\r\nMessage-ID: <" + id + ">\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"=_r\"\r\n\r\n--=_r\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n" +
		"--=_r\r\n" + attachment("dump.bin", "application/octet-stream", att) + "--=_r--\r\n\r\n--B--\r\n"
	return []byte(strings.TrimSuffix(dsn, "--B--\r\n") + returned)
}

// spoolOf writes raw to a file and returns it as a spooled mail's Source.
func spoolOf(t *testing.T, raw []byte) mailin.Source {
	t.Helper()
	p := filepath.Join(t.TempDir(), "spool.eml")
	if err := os.WriteFile(p, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	file, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { file.Close() })
	return io.NewSectionReader(file, 0, int64(len(raw)))
}

// stored is what the database holds after a delivery, for comparison.
type stored struct {
	Outcome     mailin.Outcome
	Messages    []store.StoredMessage // without raw bytes
	Attachments []store.Attachment
	Events      []string
}

func (f *fixture) stored(out mailin.Outcome) stored {
	f.t.Helper()
	s := stored{Outcome: out}
	err := f.db.Read(f.ctx, func(t *store.Txn) error {
		for id := int64(1); ; id++ {
			m, err := t.Message(id)
			if errors.Is(err, store.ErrNotFound) {
				break
			}
			if err != nil {
				return err
			}
			// The bytes are compared by the caller; here only whether
			// the hash is theirs (the bounce's bytes hold a random id).
			if m.Hash == sha256Hex(m.Raw) {
				m.Hash = "sha256 of raw"
			}
			m.Raw = nil
			s.Messages = append(s.Messages, *m)
		}
		for id := int64(1); ; id++ {
			a, err := t.Attachment(id)
			if errors.Is(err, store.ErrNotFound) {
				break
			}
			if err != nil {
				return err
			}
			s.Attachments = append(s.Attachments, *a)
		}
		for n := int64(1); n <= 2; n++ {
			evs, err := t.Events(n)
			if err != nil {
				return err
			}
			s.Events = append(s.Events, kinds(evs)...)
		}
		return nil
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return s
}

// A large mail delivered from a spool file is stored, threaded and acted
// on exactly as the same bytes delivered in memory: a customer's mail
// with a large log (its attachment then downloadable from the stored
// raw), a bounce whose returned message is large, and an unreadable one
// (quarantined with its bytes and hash).
func TestSpooledMailAsInMemory(t *testing.T) {
	att := logData(3 << 20)
	for _, tc := range []struct {
		name  string
		setup func(f *fixture) []byte // mails before, then the big mail
		want  mailin.Outcome
	}{
		{"customer mail with a log", func(f *fixture) []byte { return bigCustomerMail("crash@acme.test", att) }, mailin.Answered},
		{"bounce returning a large mail", func(f *fixture) []byte {
			f.mail("alice@acme.test", "Server crash", "It broke.")
			return bigBounce(ackID(t, f, 1), att)
		}, mailin.Kept},
		{"unreadable", func(f *fixture) []byte { return bytes.Repeat([]byte(" \r\n"), 1<<20) }, mailin.Quarantined},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got [2]stored
			for i, spooled := range []bool{false, true} {
				f := newFixture(t, false)
				raw := tc.setup(f)
				f.uid++
				m := mailin.Mail{Place: mailinPlace(f.uid)}
				if spooled {
					m.Spool = spoolOf(t, raw)
				} else {
					m.Raw = raw
				}
				outs, err := f.d.Deliver(f.ctx, []mailin.Mail{m})
				if err != nil || len(outs) != 1 || outs[0] != tc.want {
					t.Fatalf("spooled %v: %v, %v; want %s", spooled, outs, err, tc.want)
				}
				got[i] = f.stored(outs[0])
				last := got[i].Messages[len(got[i].Messages)-1]
				if back := f.raw(last.ID); !bytes.Equal(back, raw) || last.Hash != "sha256 of raw" {
					t.Fatalf("spooled %v: %d bytes stored of %d, hash %s", spooled, len(back), len(raw), last.Hash)
				}
				if spooled && tc.want == mailin.Answered {
					// The attachment is found again in the stored raw.
					a := got[i].Attachments[0]
					file, err := f.d.Outbox().Attachment(f.ctx, a.ID)
					if data := fileBytes(t, file); err != nil || !bytes.Equal(data, att) || file.Name != "crash.log.gz" {
						t.Fatalf("attachment %+v: %d bytes, %v", a, len(data), err)
					}
				}
				if !slices.Contains(got[i].Events, cases.EvDeliveryFailed) && tc.want == mailin.Kept {
					t.Fatalf("spooled %v: bounce not on its case (events %v)", spooled, got[i].Events)
				}
			}
			if !reflect.DeepEqual(got[0], got[1]) {
				t.Errorf("in memory and spooled differ:\n%+v\n%+v", brief(got[0]), brief(got[1]))
			}
		})
	}
}

// raw reads back the raw bytes of stored message id.
func (f *fixture) raw(id int64) []byte {
	f.t.Helper()
	var raw []byte
	err := f.db.Read(f.ctx, func(t *store.Txn) error {
		m, err := t.Message(id)
		if err == nil {
			raw = m.Raw
		}
		return err
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return raw
}

// brief prints a stored.
func brief(s stored) string {
	var b strings.Builder
	fmt.Fprintf(&b, "outcome %s events %v\n", s.Outcome, s.Events)
	for _, m := range s.Messages {
		fmt.Fprintf(&b, "message %+v\n", m)
	}
	for _, a := range s.Attachments {
		fmt.Fprintf(&b, "attachment %+v\n", a)
	}
	return b.String()
}

// shortSource says it holds more bytes than it does, as a spool file cut
// short would.
type shortSource struct{ *bytes.Reader }

func (s shortSource) Size() int64 { return s.Reader.Size() + 1000 }

// A spool that cannot be read is no unreadable mail: the delivery fails,
// nothing of that mail is stored or quarantined, the mails before it in
// the chunk are committed, and its place is not recorded as processed.
func TestUnreadableSpoolFailsDelivery(t *testing.T) {
	att := logData(2 << 20)
	for _, raw := range [][]byte{bigCustomerMail("crash@acme.test", att), []byte("From: alice@acme.test\r\nSubject: hi\r\n\r\nshort\r\n")} {
		f := newFixture(t, false)
		ok := []byte("From: alice@acme.test\r\nTo: support@example.com\r\nSubject: Printer down\r\nMessage-ID: <p@acme.test>\r\n\r\nIt broke.\r\n")
		outs, err := f.d.Deliver(f.ctx, []mailin.Mail{{Place: mailinPlace(1), Raw: ok}, {Place: mailinPlace(2), Spool: shortSource{bytes.NewReader(raw)}}})
		if !errors.Is(err, mailin.ErrSource) || len(outs) != 1 || outs[0] != mailin.Answered {
			t.Fatalf("%d bytes: %v, %v; want the first answered and an ErrSource error", len(raw), outs, err)
		}
		s := f.stored("")
		if len(s.Messages) != 1 || s.Messages[0].UID != 1 {
			t.Fatalf("stored %s", brief(s))
		}
		if _, last, err := f.d.MailboxState(f.ctx, "INBOX"); err != nil || last != 1 {
			t.Errorf("last processed uid %d (%v), want 1", last, err)
		}
	}
}

// A spooled mail too large to be parsed whole (no large attachment for
// the skeleton to count: one huge text body) is quarantined with its
// bytes and hash, not read into memory, and the mails around it go on.
func TestTooLargeSpoolIsQuarantined(t *testing.T) {
	defer func(v int64) { mailin.MaxWhole = v }(mailin.MaxWhole)
	mailin.MaxWhole = 1 << 20
	f := newFixture(t, false)
	huge := []byte("From: alice@acme.test\r\nTo: support@example.com\r\nSubject: the whole log\r\nMessage-ID: <log@acme.test>\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\n" + strings.Repeat("the log goes on\r\n", 100_000))
	ok := []byte("From: alice@acme.test\r\nTo: support@example.com\r\nSubject: Printer down\r\nMessage-ID: <p@acme.test>\r\n\r\nIt broke.\r\n")
	outs, err := f.d.Deliver(f.ctx, []mailin.Mail{{Place: mailinPlace(1), Spool: spoolOf(t, huge)}, {Place: mailinPlace(2), Raw: ok}})
	if err != nil || !slices.Equal(outs, []mailin.Outcome{mailin.Quarantined, mailin.Answered}) {
		t.Fatalf("%v, %v; want quarantined, answered", outs, err)
	}
	s := f.stored("")
	if len(s.Messages) != 2 || s.Messages[0].Matched != "quarantine" || !strings.Contains(s.Messages[0].Problems, "too large") ||
		s.Messages[0].Hash != "sha256 of raw" || s.Messages[0].Size != len(huge) {
		t.Fatalf("stored %s", brief(s))
	}
	if got := f.raw(s.Messages[0].ID); !bytes.Equal(got, huge) {
		t.Fatalf("quarantined raw: %d bytes, want the %d of the mail", len(got), len(huge))
	}
	// An admin's replay reads it whole (in the command's own process) and
	// opens its case, storing the same bytes again.
	n, err := f.d.Replay(f.ctx, s.Messages[0].ID)
	if err != nil || n != 2 {
		t.Fatalf("replay: case %d, %v; want case 2", n, err)
	}
	s = f.stored("")
	last := s.Messages[len(s.Messages)-1]
	if s.Messages[0].Matched != "replayed" || last.Case != 2 || last.Hash != "sha256 of raw" || !bytes.Equal(f.raw(last.ID), huge) {
		t.Fatalf("after the replay: %s", brief(s))
	}
}

// fileBytes reads a relayed attachment: its Data, or all of its Body,
// which it closes.
func fileBytes(t *testing.T, f mailout.File) []byte {
	t.Helper()
	if f.Body == nil {
		return f.Data
	}
	defer f.Body.Close()
	if f.Data != nil {
		t.Errorf("attachment %s has both Data and Body", f.Name)
	}
	b, err := io.ReadAll(f.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// A large attachment of a mail that must be read whole (broken base64,
// which the skeleton leaves to the parser) and that was stored from
// memory is still relayed, read whole as before, when the mail is over
// the limit for reading whole from a source.
func TestAttachmentOfMailReadWhole(t *testing.T) {
	defer func(v int64) { mailin.MaxWhole = v }(mailin.MaxWhole)
	f := newFixture(t, false)
	att := logData(3 << 20)
	part := attachment("crash.log.gz", "application/gzip", att)
	broken := strings.Replace(part, "\r\n", "\r\n*** scanned ***\r\n", 40) // a gateway's words inside the base64
	raw := []byte(strings.Replace(string(bigCustomerMail("whole@acme.test", att)), part, broken, 1))
	if n := strings.Count(string(raw), "*** scanned ***"); n == 0 {
		t.Fatal("the attachment was not damaged")
	}
	outs, err := f.d.Deliver(f.ctx, []mailin.Mail{{Place: mailinPlace(1), Raw: raw}})
	if err != nil || outs[0] != mailin.Answered {
		t.Fatalf("%v, %v", outs, err)
	}
	mailin.MaxWhole = 1 << 20
	a := f.stored(outs[0]).Attachments[0]
	want, err := mailin.AttachmentData(raw, a.Part, a.Filename, a.Size, mailin.ParseOptions{MaxAttachment: f.cfg.Mailbox.MaxAttachment})
	if err != nil {
		t.Fatal(err)
	}
	file, err := f.d.Outbox().Attachment(f.ctx, a.ID)
	if got := fileBytes(t, file); err != nil || !bytes.Equal(got, want.Data) || len(got) < 1<<20 {
		t.Fatalf("attachment %+v: %d bytes (want %d), %v", a, len(got), len(want.Data), err)
	}
}
