package mailin

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// corpusMails reads every .eml under testdata.
func corpusMails(t *testing.T) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir("testdata", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".eml") {
			return err
		}
		b, err := os.ReadFile(p)
		out[p] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 500 {
		t.Fatalf("%d corpus mails, want the 500 and more of testdata", len(out))
	}
	return out
}

// forwardedWithLog wraps a mail as an attached message (RFC 2046 5.2.1)
// beside a log, as a customer forwards a mail with the log
// it mentions: large enough that ParseMeta reads a skeleton.
func forwardedWithLog(inner, log []byte) []byte {
	var b bytes.Buffer
	b.WriteString("From: Kim <kim@acme.test>\r\nTo: support@example.com\r\nSubject: Fwd: see below\r\n" +
		"Message-ID: <fwd@acme.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"=_fwd_0\"\r\n\r\n" +
		"--=_fwd_0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nForwarded, with the log.\r\n" +
		"--=_fwd_0\r\nContent-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n")
	b.Write(inner)
	b.WriteString("\r\n--=_fwd_0\r\nContent-Type: application/octet-stream; name=\"app.log\"\r\n" +
		"Content-Disposition: attachment; filename=\"app.log\"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
	b.Write(log)
	b.WriteString("\r\n--=_fwd_0--\r\n")
	return b.Bytes()
}

// parseBoth parses raw with ParseMeta and, from a file, with
// ParseMetaFrom, and fails unless both give the same Message and error.
func parseBoth(t *testing.T, name string, raw []byte, opts ParseOptions) *Message {
	t.Helper()
	want, werr := ParseMeta(raw, opts)
	p := filepath.Join(t.TempDir(), "mail.eml")
	if err := os.WriteFile(p, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, gerr := ParseMetaFrom(f, int64(len(raw)), opts)
	if fmt.Sprint(gerr) != fmt.Sprint(werr) || !reflect.DeepEqual(got, want) {
		t.Errorf("%s: ParseMetaFrom differs from ParseMeta:\n got %+v, %v\nwant %+v, %v", name, got, gerr, want, werr)
	}
	return want
}

// ParseMetaFrom gives what ParseMeta gives for the same bytes, for every
// mail of the corpora as it is (small: parsed whole) and forwarded with a
// large log (parsed from the skeleton, which must then be used).
func TestParseMetaFromCorpora(t *testing.T) {
	var log bytes.Buffer // above skeletonFrom
	for i := 0; log.Len() < skeletonFrom+1000; i++ {
		fmt.Fprintf(&log, "2026-11-26 08:%02d:%02d app[%d]: request %d served in %d ms\r\n", i/60%60, i%60, 4000+i%7, i, i%97)
	}
	data := log.Bytes()
	skeletons, forwarded := 0, 0
	mails := corpusMails(t)
	names := slices.Sorted(maps.Keys(mails))
	for i, name := range names {
		raw := mails[name]
		parseBoth(t, name, raw, ParseOptions{MaxAttachment: 1 << 20})
		if i%8 != 0 {
			continue // an eighth of them forwarded keeps the test quick
		}
		forwarded++
		big := forwardedWithLog(raw, data)
		m := parseBoth(t, name+" forwarded", big, ParseOptions{MaxAttachment: 1 << 20})
		if sk, _ := parseSkeleton(bytes.NewReader(big), int64(len(big))); sk != nil {
			skeletons++
		}
		sum := sha256.Sum256(big)
		if m == nil || m.Hash != hex.EncodeToString(sum[:]) {
			t.Fatalf("%s forwarded: message %v, want hash %x", name, m, sum)
		}
		last := m.Attachments[len(m.Attachments)-1]
		if last.Filename != "app.log" || last.Size != int64(len(data)) || !last.Truncated {
			t.Errorf("%s forwarded: log attachment %+v", name, last)
		}
	}
	// The skeleton copies attached messages as they are: it is used for
	// nearly all of them (not for an attached mail whose own MIME ends
	// the outer part early, such as one with a missing boundary).
	if skeletons < forwarded*9/10 {
		t.Errorf("skeleton used for %d of %d forwarded mails", skeletons, forwarded)
	}
	t.Logf("%d mails, %d forwarded with a log, skeleton used for %d", len(mails), forwarded, skeletons)
}

// failingReader fails every read at or after off.
type failingReader struct {
	raw []byte
	off int64
}

func (r failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off >= r.off {
		return 0, errors.New("disk gone")
	}
	n := copy(p, r.raw[off:min(int64(len(r.raw)), r.off)])
	if n < len(p) {
		return n, errors.New("disk gone")
	}
	return n, nil
}

// A source that fails, or holds fewer bytes than its size, is an
// ErrSource error, never a damaged message: small and large mail, on the
// skeleton's path and on the whole one.
func TestParseMetaFromSourceErrors(t *testing.T) {
	data := make([]byte, 3<<20)
	big := bigMail(base64Lines(data))
	small := []byte(twoAttachments)
	for _, tc := range []struct {
		name string
		r    io.ReaderAt
		size int64
	}{
		{"small, read error", failingReader{small, 40}, int64(len(small))},
		{"small, short", bytes.NewReader(small), int64(len(small)) + 10},
		{"large, read error in the attachment", failingReader{big, 2 << 20}, int64(len(big))},
		{"large, short", bytes.NewReader(big[:len(big)-100]), int64(len(big))},
		{"large, read error in the header", failingReader{big, 100}, int64(len(big))},
		{"negative size", bytes.NewReader(small), -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := ParseMetaFrom(tc.r, tc.size, ParseOptions{})
			if !errors.Is(err, ErrSource) || m != nil {
				t.Errorf("got %v, %v; want an ErrSource error and no message", m, err)
			}
		})
	}
	// The same bytes, whole, parse.
	if m, err := ParseMetaFrom(bytes.NewReader(big), int64(len(big)), ParseOptions{}); err != nil || len(m.Attachments) != 3 {
		t.Errorf("whole: %v, %v", m, err)
	}
}
