package mailin

import (
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
