package replytext

import (
	"bufio"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The corpus holds real-looking replies from the clients our staff use, one
// NAME.eml with NAME.want.txt, the exact text to relay. The .eml files are
// read with the standard library only, so this package does not depend on
// mailin.
const corpusDir = "testdata/corpus"

type corpusSample struct {
	name string
	eml  string
	want string
}

func loadCorpus(t testing.TB) []corpusSample {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(corpusDir, "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) == 0 {
		t.Fatalf("no samples in %s", corpusDir)
	}
	var out []corpusSample
	for _, p := range paths {
		name := strings.TrimSuffix(filepath.Base(p), ".eml")
		want, err := os.ReadFile(filepath.Join(corpusDir, name+".want.txt"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, corpusSample{name: name, eml: p, want: string(want)})
	}
	return out
}

// stripSample reads one .eml and strips its body as mailin's caller will:
// text/plain when there is one, else text/html through StripHTML.
func stripSample(path string) (got, body string, isHTML bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", "", false, err
	}
	defer f.Close()
	msg, err := mail.ReadMessage(bufio.NewReader(f))
	if err != nil {
		return "", "", false, fmt.Errorf("read message: %w", err)
	}
	var bodies textBodies
	if err := bodies.walk(textproto.MIMEHeader(msg.Header), msg.Body); err != nil {
		return "", "", false, err
	}
	switch {
	case bodies.plain != nil:
		return Strip(*bodies.plain), *bodies.plain, false, nil
	case bodies.html != nil:
		return StripHTML(*bodies.html), *bodies.html, true, nil
	}
	return "", "", false, errors.New("no text/plain or text/html part")
}

// textBodies collects the first text/plain and text/html parts that are
// not attachments.
type textBodies struct {
	plain, html *string
}

func (b *textBodies) walk(h textproto.MIMEHeader, r io.Reader) error {
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain; charset=us-ascii" // RFC 2045 5.2
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return fmt.Errorf("content-type %q: %w", ct, err)
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(r, params["boundary"])
		for {
			// NextRawPart: we decode the transfer encoding ourselves.
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return fmt.Errorf("%s: %w", mt, err)
			}
			if err := b.walk(p.Header, p); err != nil {
				return err
			}
		}
	}
	if mt != "text/plain" && mt != "text/html" {
		return nil
	}
	if d, _, _ := mime.ParseMediaType(h.Get("Content-Disposition")); d == "attachment" {
		return nil
	}
	switch cs := strings.ToLower(params["charset"]); cs {
	case "", "utf-8", "us-ascii":
	default:
		return fmt.Errorf("charset %q: the corpus is UTF-8 only", cs)
	}
	switch cte := strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))); cte {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "", "7bit", "8bit", "binary":
	default:
		return fmt.Errorf("content-transfer-encoding %q", cte)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("%s body: %w", mt, err)
	}
	s := string(data)
	if mt == "text/plain" && b.plain == nil {
		b.plain = &s
	}
	if mt == "text/html" && b.html == nil {
		b.html = &s
	}
	return nil
}
