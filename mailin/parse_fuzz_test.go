package mailin

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParse checks that Parse terminates quickly, never panics (not even
// one it recovers from) and only stores valid UTF-8.
func FuzzParse(f *testing.F) {
	var files []string
	for _, dir := range []string{"testdata", "testdata/decode", "testdata/robots", "testdata/humans"} {
		fs, err := filepath.Glob(filepath.Join(dir, "*.eml"))
		if err != nil || len(fs) == 0 {
			f.Fatal("no seeds in", dir, err)
		}
		files = append(files, fs...)
	}
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte("Subject: =?gbk?B?suLK1A==?= =?utf-7?Q?+ZeVnLIqe-?=\r\n\r\n"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\n"))
	f.Add([]byte("\xef\xbb\xbfFrom: a@b\rSubject: =?utf-16?B?/v8AQQ==?= =?utf-16?B?/v8AQg==?=\r\rtext\r"))
	f.Add([]byte("junk line\nFrom: =?iso-8859-1?B?1tDOxA==?= <a@b>\nX Bad: 1\nContent-Type: text/plain\n\nFr\xf6sche\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		done := make(chan *Message, 1)
		go func() {
			m, err := Parse(bytes.NewReader(raw), ParseOptions{MaxAttachment: 1 << 10})
			if err != nil && m != nil {
				t.Errorf("Parse returned a message and an error")
			}
			if err == nil && m == nil {
				t.Errorf("Parse returned neither a message nor an error")
			}
			done <- m
		}()
		var m *Message
		select {
		case m = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Parse did not return in 10s on %d bytes", len(raw))
		}
		if m == nil {
			return
		}
		checkMessageUTF8(t, m)
		for _, p := range m.Problems {
			if strings.HasPrefix(p, "internal error") {
				t.Fatalf("Parse recovered a panic: %s", p)
			}
		}
		for _, a := range m.Attachments {
			if int64(len(a.Data)) > 1<<10 || a.Size < int64(len(a.Data)) || a.Truncated != (a.Size > int64(len(a.Data))) {
				t.Fatalf("attachment %q: len(Data)=%d Size=%d Truncated=%v", a.Filename, len(a.Data), a.Size, a.Truncated)
			}
			if a.Filename == "" {
				t.Fatal("empty attachment name")
			}
		}
		if !utf8.ValidString(m.Subject) || !utf8.ValidString(m.Text) {
			t.Fatal("invalid UTF-8")
		}
	})
}
