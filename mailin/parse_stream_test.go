package mailin

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"testing"
)

const twoAttachments = "From: a@acme.test\r\nSubject: logs\r\nMIME-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee attached.\r\n" +
	"--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"a.log\"\r\n\r\nfirst log line\r\n" +
	"--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"=?utf-8?B?5pel5b+X?=.bin\"\r\n" +
	"Content-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgcICQ==\r\n--b--\r\n"

// ParseMeta keeps sizes and the cap's verdict but no bytes; AttachmentData
// finds each attachment's bytes again in the raw message.
func TestParseMetaAndAttachmentData(t *testing.T) {
	raw := []byte(twoAttachments)
	m, err := ParseMeta(raw, ParseOptions{MaxAttachment: 12})
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Attachments) != 2 || !strings.Contains(m.Text, "See attached.") {
		t.Fatalf("parsed %+v", m)
	}
	want := []struct {
		name      string
		size      int64
		truncated bool
		data      string
	}{
		{"a.log", 0, false, ""}, // size and data from Parse, below
		{"日志.bin", 10, false, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09"},
	}
	full, err := Parse(strings.NewReader(twoAttachments), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want[0].size, want[0].data = full.Attachments[0].Size, string(full.Attachments[0].Data)
	want[0].truncated = want[0].size > 12
	for i, a := range m.Attachments {
		w := want[i]
		if a.Filename != w.name || a.Size != w.size || a.Truncated != w.truncated || a.Data != nil {
			t.Errorf("attachment %d = %+v, want %s size %d truncated %v without data", i, a, w.name, w.size, w.truncated)
		}
		got, err := AttachmentData(raw, i, a.Filename, a.Size, ParseOptions{})
		if err != nil || string(got.Data) != w.data {
			t.Errorf("attachment %d data = %q, %v; want %q", i, got.Data, err, w.data)
		}
	}
	// A renumbered part is found by name and size; a missing one is an error.
	if got, err := AttachmentData(raw, 0, "日志.bin", 10, ParseOptions{}); err != nil || len(got.Data) != 10 {
		t.Errorf("by name: %q, %v", got.Data, err)
	}
	if _, err := AttachmentData(raw, 1, "other.bin", 10, ParseOptions{}); err == nil {
		t.Error("a missing attachment was found")
	}
}

// bigMail is a large message as mail clients write it: an alternative
// text and HTML body, a large base64 attachment, a small one, and a
// quoted-printable one.
func bigMail(attachment string) []byte {
	var b strings.Builder
	b.WriteString("From: =?utf-8?B?5byg5LiJ?= <zhang@acme.test>\r\nTo: support@example.com\r\nSubject: =?GBK?B?t/7O8cb3tO3O8w==?=\r\n" +
		"Message-ID: <big@acme.test>\r\nReferences: <a@x.test> <b@x.test>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\npreamble\r\n--outer\r\n" +
		"Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" +
		"服务器宕机，日志见附件。\r\n--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>服务器宕机</p>\r\n--alt--\r\n" +
		"--outer\r\nContent-Type: application/octet-stream; name=\"core.dump\"\r\nContent-Disposition: attachment; filename=\"core.dump\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n\r\n")
	b.WriteString(attachment)
	b.WriteString("\r\n--outer\r\nContent-Type: text/plain; name=\"small.txt\"\r\nContent-Disposition: attachment; filename=\"small.txt\"\r\n\r\nsmall\r\n" +
		"--outer\r\nContent-Type: text/csv\r\nContent-Disposition: attachment; filename=\"data.csv\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	for i := range 20000 {
		fmt.Fprintf(&b, "%d,caf=C3=A9,x\r\n", i)
	}
	b.WriteString("--outer--\r\nepilogue\r\n")
	return []byte(b.String())
}

func base64Lines(data []byte) string {
	s := base64.StdEncoding.EncodeToString(data)
	var b strings.Builder
	for len(s) > 76 {
		b.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	return b.String() + s
}

// A large message parsed from its skeleton reads the same as parsed
// whole; one the skeleton cannot be sure of is parsed whole.
func TestParseMetaSkeleton(t *testing.T) {
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	good := bigMail(base64Lines(data))
	bad := bigMail(base64Lines(data[:1<<20]) + "\r\n*** not base64 ***\r\n" + base64Lines(data[:1<<20]))
	// A large mail forwarded as an attachment (or returned in a bounce)
	// is one attachment of its full size; the parser does not walk it.
	forwarded := forwardedWithLog(good, []byte("a short log\r\n"))
	for _, tc := range []struct {
		name        string
		raw         []byte
		skeleton    bool
		attachments int
	}{
		{"skeleton", good, true, 3},
		{"fallback", bad, false, 3},
		{"attached message", forwarded, true, 2},
		{"attached message, fallback", forwardedWithLog(bad, nil), false, 2},
	} {
		name, raw := tc.name, tc.raw
		t.Run(name, func(t *testing.T) {
			got, err := ParseMeta(raw, ParseOptions{MaxAttachment: 2 << 20})
			if err != nil {
				t.Fatal(err)
			}
			want, err := Parse(bytes.NewReader(raw), ParseOptions{MaxAttachment: 2 << 20})
			if err != nil {
				t.Fatal(err)
			}
			if sk, _ := parseSkeleton(bytes.NewReader(raw), int64(len(raw))); (sk != nil) != tc.skeleton {
				t.Fatalf("skeleton used: %v", sk != nil)
			}
			if got.Subject != want.Subject || got.Text != want.Text || got.HTML != want.HTML || got.Hash != want.Hash ||
				got.MessageID != want.MessageID || !slices.Equal(got.References, want.References) || got.From != want.From {
				t.Errorf("header or text differ:\n got %q %q %q %s\nwant %q %q %q %s", got.Subject, got.Text, got.HTML, got.Hash, want.Subject, want.Text, want.HTML, want.Hash)
			}
			if len(got.Attachments) != len(want.Attachments) || len(got.Attachments) != tc.attachments {
				t.Fatalf("attachments %d, want %d (%d)", len(got.Attachments), len(want.Attachments), tc.attachments)
			}
			for i, a := range got.Attachments {
				w := want.Attachments[i]
				if a.Filename != w.Filename || a.ContentType != w.ContentType || a.Size != w.Size || a.Truncated != w.Truncated || a.Data != nil {
					t.Errorf("attachment %d: got %s %s %d %v, want %s %s %d %v", i, a.Filename, a.ContentType, a.Size, a.Truncated, w.Filename, w.ContentType, w.Size, w.Truncated)
				}
			}
			if name == "skeleton" && (got.Attachments[0].Size != int64(len(data)) || !got.Attachments[0].Truncated) {
				t.Errorf("core.dump: size %d truncated %v", got.Attachments[0].Size, got.Attachments[0].Truncated)
			}
		})
	}
}

// ExtractAttachment writes what AttachmentData returns, for every
// attachment of large mail read through its skeleton (base64 with spaces
// and short lines, quoted-printable, a small part copied into the
// skeleton, an attached message), of large mail it must read whole, and
// of small mail, with and without a cap that cuts the attachment.
func TestExtractAttachmentAsAttachmentData(t *testing.T) {
	data := make([]byte, 3<<20)
	for i := range data {
		data[i] = byte(i * 7)
	}
	spaced := strings.ReplaceAll(base64Lines(data[:2<<20]), "\r\n", " \t\r\n")
	good := bigMail(base64Lines(data))
	mails := map[string][]byte{
		"skeleton":         good,
		"spaced base64":    bigMail(spaced),
		"read whole":       bigMail(base64Lines(data[:1<<20]) + "\r\n*** not base64 ***\r\n" + base64Lines(data[:1<<20])),
		"attached message": forwardedWithLog(good, bytes.Repeat([]byte("log line\r\n"), 1<<17)),
		"small":            []byte(twoAttachments),
		// Parsed whole when stored (under skeletonFrom), so its size is the
		// whole parser's, which ends quoted-printable lines with CRLF.
		"small, quoted-printable with LF": []byte("From: a@acme.test\nSubject: csv\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n" +
			"--b\nContent-Type: text/plain\n\nSee the csv.\n--b\nContent-Type: text/csv\nContent-Disposition: attachment; filename=a.csv\n" +
			"Content-Transfer-Encoding: quoted-printable\n\n" + strings.Repeat("1,caf=C3=A9,x\n", 9000) + "--b--\n"),
		"small, read through": forwardedWithLog([]byte(twoAttachments), bytes.Repeat([]byte("log\r\n"), 300000)),
	}
	for name, raw := range mails {
		for _, limit := range []int64{0, 1 << 20} {
			t.Run(fmt.Sprintf("%s/limit=%d", name, limit), func(t *testing.T) {
				opts := ParseOptions{MaxAttachment: limit}
				m, err := ParseMeta(raw, opts)
				if err != nil {
					t.Fatal(err)
				}
				for i, a := range m.Attachments {
					want, err := AttachmentData(raw, i, a.Filename, a.Size, opts)
					if err != nil {
						t.Fatal(err)
					}
					var got bytes.Buffer
					if err := ExtractAttachment(&got, bytes.NewReader(raw), int64(len(raw)), i, a.Filename, a.Size, opts); err != nil {
						t.Fatalf("attachment %d (%s): %v", i, a.Filename, err)
					}
					if !bytes.Equal(got.Bytes(), want.Data) {
						t.Errorf("attachment %d (%s): %d bytes extracted, AttachmentData has %d", i, a.Filename, got.Len(), len(want.Data))
					}
				}
				if err := ExtractAttachment(io.Discard, bytes.NewReader(raw), int64(len(raw)), 0, "missing.bin", 1, opts); err == nil {
					t.Error("a missing attachment was extracted")
				}
			})
		}
	}
}

// ExtractAttachment agrees with AttachmentData on every attachment of the
// corpora, mail as the clients and MTAs of testdata write it: each mail as
// it is (read whole) and an eighth of them forwarded beside a large log
// (read through the skeleton).
func TestExtractAttachmentCorpora(t *testing.T) {
	var log bytes.Buffer
	for i := 0; log.Len() < skeletonFrom+1000; i++ {
		fmt.Fprintf(&log, "2026-11-26 08:00:00 app: request %d\r\n", i)
	}
	mails := corpusMails(t)
	names := slices.Sorted(maps.Keys(mails))
	checked := 0
	for k, name := range names {
		variants := [][]byte{mails[name]}
		if k%8 == 0 {
			variants = append(variants, forwardedWithLog(mails[name], log.Bytes()))
		}
		for _, raw := range variants {
			opts := ParseOptions{MaxAttachment: 1 << 20}
			m, err := ParseMeta(raw, opts)
			if err != nil {
				continue
			}
			for i, a := range m.Attachments {
				want, werr := AttachmentData(raw, i, a.Filename, a.Size, opts)
				var got bytes.Buffer
				gerr := ExtractAttachment(&got, bytes.NewReader(raw), int64(len(raw)), i, a.Filename, a.Size, opts)
				if (werr == nil) != (gerr == nil) || !bytes.Equal(got.Bytes(), want.Data) {
					t.Errorf("%s (%d bytes), attachment %d %q: extracted %d bytes (%v), AttachmentData %d (%v)",
						name, len(raw), i, a.Filename, got.Len(), gerr, len(want.Data), werr)
				}
				checked++
			}
		}
	}
	if checked < 250 { // 275 in the corpora of testdata
		t.Fatalf("only %d attachments checked", checked)
	}
}
