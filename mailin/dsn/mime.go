package dsn

import (
	"bufio"
	"bytes"
	"html"
	"io"
	"regexp"
	"strings"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // RFC 2046 4.1.2 charsets for text parts and RFC 2047 words
	"github.com/emersion/go-message/textproto"
)

// Bounds that keep Read linear and finite on any input.
const (
	maxRaw   = 16 << 20 // bytes of raw mail looked at
	maxPart  = 1 << 20  // decoded bytes kept per part
	maxParts = 100      // leaf parts kept
	maxDepth = 8        // multipart nesting followed
	maxText  = 4 << 20  // bytes of text searched for recipients and ids
)

// part is one leaf of the MIME tree.
type part struct {
	typ    string            // media type, lowercased
	params map[string]string // Content-Type parameters
	body   []byte            // decoded body, at most maxPart bytes
	inner  *textproto.Header // for message/rfc822, message/global, text/rfc822-headers: the returned header
}

// parsed is a mail reduced to what the readers need.
type parsed struct {
	header     textproto.Header // top-level header
	parts      []part
	reportType string // report-type of the first multipart/report, lowercased
	rawBody    []byte // the top-level body as it is, for when MIME parsing gives nothing
}

// normalize cuts raw to maxRaw, drops a leading byte-order mark and turns
// CRLF and bare CR line ends into LF, which go-message reads as well as
// CRLF (and bare CR not at all).
func normalize(raw []byte) []byte {
	if len(raw) > maxRaw {
		raw = raw[:maxRaw]
	}
	raw = bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf"))
	if bytes.IndexByte(raw, '\r') < 0 {
		return raw
	}
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c == '\r' {
			if i+1 < len(raw) && raw[i+1] == '\n' {
				continue
			}
			c = '\n'
		}
		out = append(out, c)
	}
	return out
}

// headerPrefix is normalize(b) cut after its first blank line, or all of
// it when there is none: what splitHeader needs to find the header,
// without normalizing a long body (a bounce check reads only the header
// of every mail). A prefix cut between CR and LF ends in a line break
// that would have been one anyway, so it never ends a header early.
func headerPrefix(b []byte) []byte {
	for n := 4 << 10; n < len(b) && n < maxRaw; n *= 4 {
		p := normalize(b[:n])
		if bytes.HasPrefix(p, []byte("\n")) || bytes.Contains(p, []byte("\n\n")) {
			return p
		}
	}
	return normalize(b)
}

// fieldLine matches the start of an RFC 5322 2.2 header field.
var fieldLine = regexp.MustCompile(`^[!-9;-~]+[ \t]*:`)

// splitHeader separates a (normalized) message into a header that
// go-message can read and the body. Lines in the header that are neither a
// field nor a continuation are dropped, as a careful reader skips them
// (an mbox "From " line, junk); when no line at all is a field, the whole
// input is body.
func splitHeader(b []byte) (hdr, body []byte) {
	end := bytes.Index(b, []byte("\n\n"))
	var head []byte
	if bytes.HasPrefix(b, []byte("\n")) {
		return nil, b[1:]
	}
	if end < 0 {
		head, body = b, nil
	} else {
		head, body = b[:end+1], b[end+2:]
	}
	var out bytes.Buffer
	fields, prevKept := 0, false
	for _, line := range bytes.SplitAfter(head, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		switch {
		case line[0] == ' ' || line[0] == '\t':
			if prevKept {
				out.Write(line)
			}
		case fieldLine.Match(line):
			fields++
			prevKept = true
			out.Write(line)
			if line[len(line)-1] != '\n' {
				out.WriteByte('\n')
			}
		default:
			prevKept = false
		}
	}
	if fields == 0 {
		return nil, b
	}
	return out.Bytes(), body
}

// readHeader reads a header block leniently; it never fails, an unreadable
// header is empty.
func readHeader(b []byte) textproto.Header {
	hdr, _ := splitHeader(headerPrefix(b))
	if len(hdr) > 1<<20 {
		hdr = hdr[:1<<20]
	}
	h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(append(hdr, '\n'))))
	if err != nil {
		return textproto.Header{}
	}
	return h
}

// collect walks raw mail into a parsed, never failing: what go-message
// cannot read is kept as raw text.
func collect(raw []byte) *parsed {
	b := normalize(raw)
	hdr, body := splitHeader(b)
	p := &parsed{rawBody: body}
	msg := append(append(append([]byte{}, hdr...), '\n'), body...)
	e, err := message.ReadWithOptions(bytes.NewReader(msg), &message.ReadOptions{MaxHeaderBytes: 1 << 20})
	if e == nil {
		_ = err // unreadable header: treat everything as text below
		p.parts = append(p.parts, part{typ: "text/plain", body: limit(body)})
		return p
	}
	p.header = e.Header.Header
	p.walk(e, 0)
	if !p.hasText() && len(body) > 0 {
		// Broken MIME (no boundary in the body, a lying Content-Type):
		// read the body as the text it probably is.
		p.parts = append(p.parts, part{typ: "text/plain", body: limit(body)})
	}
	return p
}

func limit(b []byte) []byte {
	if len(b) > maxPart {
		return b[:maxPart]
	}
	return b
}

// hasText reports whether some part carries readable text or a report.
func (p *parsed) hasText() bool {
	for _, pt := range p.parts {
		if len(bytes.TrimSpace(pt.body)) > 0 || pt.inner != nil {
			return true
		}
	}
	return false
}

// walk adds e's leaves to p.parts, depth first.
func (p *parsed) walk(e *message.Entity, depth int) {
	if len(p.parts) >= maxParts || depth > maxDepth {
		return
	}
	mt, params, _ := e.Header.ContentType()
	mt = strings.ToLower(mt)
	if strings.HasPrefix(mt, "multipart/") {
		if mt == "multipart/report" && p.reportType == "" {
			p.reportType = strings.ToLower(strings.TrimSpace(params["report-type"]))
		}
		mr := e.MultipartReader()
		if mr == nil {
			return
		}
		for i := 0; i < maxParts && len(p.parts) < maxParts; i++ {
			// LIBNOTES §2: an entity comes back with an unknown charset or
			// transfer encoding error and is still readable; any error
			// without an entity (io.EOF, a missing closing boundary, which
			// repeats forever) ends the walk.
			child, _ := mr.NextPart()
			if child == nil {
				break
			}
			p.walk(child, depth+1)
		}
		return
	}
	if mt == "" {
		mt = "text/plain" // RFC 2045 5.2
	}
	body, _ := io.ReadAll(io.LimitReader(e.Body, maxPart))
	pt := part{typ: mt, params: params, body: body}
	switch {
	case mt == "message/rfc822", mt == "message/global", mt == "text/rfc822-headers", mt == "message/rfc822-headers", mt == "message/global-headers":
		h := readHeader(body)
		pt.inner = &h
	case isEMLFile(e, params) && fieldLine.Match(body):
		// The returned message attached as a file ("original.eml") under
		// a generic type.
		h := readHeader(body)
		pt.inner = &h
	}
	p.parts = append(p.parts, pt)
}

// isEMLFile reports whether a part is named like a saved message.
func isEMLFile(e *message.Entity, params map[string]string) bool {
	name := params["name"]
	if _, dp, err := e.Header.ContentDisposition(); err == nil && dp["filename"] != "" {
		name = dp["filename"]
	}
	return strings.HasSuffix(strings.ToLower(strings.TrimSpace(name)), ".eml")
}

// texts returns the readable text of every text part (HTML turned into
// text) and of the delivery-status parts, each normalized to LF line ends
// and valid UTF-8.
func (p *parsed) texts() []string {
	return p.textsOf(func(typ string) bool {
		return strings.HasPrefix(typ, "text/") || typ == "message/delivery-status" || typ == "message/global-delivery-status"
	})
}

// humanTexts returns the text of the text/plain and text/html parts: what
// the MTA wrote for people.
func (p *parsed) humanTexts() []string {
	return p.textsOf(func(typ string) bool { return typ == "text/plain" || typ == "text/html" })
}

// textsOf returns the text of the parts whose type want accepts, at most
// maxText bytes in all.
func (p *parsed) textsOf(want func(typ string) bool) []string {
	var out []string
	budget := maxText
	for _, pt := range p.parts {
		if !want(pt.typ) {
			continue
		}
		var t string
		if pt.typ == "text/html" {
			t = htmlText(string(pt.body))
		} else {
			t = textOf(pt.body)
		}
		if len(t) > budget {
			t = strings.ToValidUTF8(t[:budget], "")
		}
		budget -= len(t)
		out = append(out, t)
		if budget <= 0 {
			break
		}
	}
	return out
}

// textOf normalizes a decoded body to LF line ends and valid UTF-8.
func textOf(b []byte) string {
	return strings.ToValidUTF8(string(normalize(b)), "\uFFFD")
}

var (
	htmlBreak = regexp.MustCompile(`(?i)<(br|/p|/div|/tr|/li|/h\d|p|div|tr|li|hr)\b[^>]*>`)
	htmlTag   = regexp.MustCompile(`(?s)<[^>]*>`)
	htmlDrop  = regexp.MustCompile(`(?is)<(style|script|head)\b.*?</(style|script|head)\s*>`)
)

// htmlText turns an HTML body into plain lines, enough to find addresses,
// codes and ids in it.
func htmlText(s string) string {
	s = textOf([]byte(s))
	s = htmlDrop.ReplaceAllString(s, "")
	s = htmlBreak.ReplaceAllString(s, "\n")
	s = htmlTag.ReplaceAllString(s, "")
	return html.UnescapeString(s)
}
