package mailin

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// Address is a parsed mailbox.
type Address struct{ Name, Addr string } // Addr lowercased

// Attachment is a non-inline or named part.
type Attachment struct {
	Filename    string // decoded (RFC 2047 / RFC 2231), sanitized (no path separators), "" -> "attachment-N"
	ContentType string // media type, lowercased, without parameters
	Size        int64  // full decoded size, even if Data was truncated
	Data        []byte // up to ParseOptions.MaxAttachment bytes
	Truncated   bool
}

// defaultMaxAttachment is the attachment size cap used when
// ParseOptions.MaxAttachment is zero.
const defaultMaxAttachment = 25 << 20

// ParseOptions; zero value: MaxAttachment 25 MiB.
type ParseOptions struct {
	// MaxAttachment is how many decoded bytes of each attachment are kept
	// in Attachment.Data. Zero means 25 MiB; a negative value keeps no
	// data (names, types and sizes only).
	MaxAttachment int64
}

// Message is what helpdeskd reads from one mail.
type Message struct {
	MessageID       string   // without <>; "" if missing
	InReplyTo       []string // without <>
	References      []string // without <>, in order
	From            Address
	Sender          string // envelope-ish: Return-Path addr if present ("" for null sender "<>": set NullSender true)
	NullSender      bool
	To, Cc, ReplyTo []Address
	Subject         string    // decoded, valid UTF-8, CR/LF removed
	Date            time.Time // zero if missing/bad
	Text            string    // text/plain body decoded to UTF-8 ("" if none)
	HTML            string    // text/html body decoded to UTF-8 ("" if none); caller converts HTML-only mail
	Attachments     []Attachment
	AuthResults     []string // raw values of Authentication-Results headers, in order
	// Auto is "" when a person wrote the message; else a short reason why
	// it must never get an automatic reply and never change a case, e.g.
	// "auto-submitted: auto-replied", "precedence: bulk", "list-id",
	// "null sender", "mailer-daemon", "delivery report", "out of office".
	// See IsAutomatic.
	Auto     string
	Hash     string   // hex sha256 of the raw bytes (dedupe key when MessageID is empty)
	Problems []string // what could not be read (bad charset, broken base64, missing boundary, ...); empty for clean mail
}

var errEmpty = errors.New("parse message: empty input")

// ErrNoHeader is the error Parse returns for input that has no header
// field at all; the error is a *NoHeaderError, which carries the text.
var ErrNoHeader = errors.New("parse message: no header")

// NoHeaderError is what Parse returns for input without any header field
// (plain text, a body cut from its header): nothing identifies the mail,
// so it is no Message, but its text is kept readable for the quarantine.
// errors.Is(err, ErrNoHeader) holds for it.
type NoHeaderError struct {
	// Text is the input read as text: a leading byte-order mark dropped,
	// its charset detected, line ends turned into LF, valid UTF-8.
	Text string
}

func (e *NoHeaderError) Error() string { return ErrNoHeader.Error() }

// Unwrap makes errors.Is(err, ErrNoHeader) hold.
func (e *NoHeaderError) Unwrap() error { return ErrNoHeader }

// Parse reads one RFC 5322 message. It returns an error only when nothing
// at all could be read: empty input, or no header (a *NoHeaderError that
// holds the text); for damaged mail it returns the Message with what could
// be read and Problems filled in. It never loops forever and never panics.
//
// Parse reads all of r into memory; the caller bounds the message size.
// Mail with bare CR line ends (old Mac tools) is read line by line like
// any other. Text and HTML have CRLF and CR line ends turned into LF;
// attachment Data is kept byte for byte (after the transfer encoding is
// undone).
func Parse(r io.Reader, opts ParseOptions) (msg *Message, err error) {
	raw, rerr := io.ReadAll(r)
	if rerr != nil && len(raw) == 0 {
		return nil, fmt.Errorf("parse message: read: %w", rerr)
	}
	sum := sha256.Sum256(raw)
	m := &Message{Hash: hex.EncodeToString(sum[:])}
	if rerr != nil {
		m.problem("message cut short by a read error")
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, errEmpty
	}
	defer func() {
		// Belt and braces: a bug must not stop intake. The fuzz test fails
		// on this problem.
		if p := recover(); p != nil {
			m.problem(fmt.Sprintf("internal error: panic: %v", p))
			msg, err = m, nil
		}
	}()

	if bareCRLines(raw) {
		raw = crToLF(raw)
		m.problem("bare CR line ends")
	}
	h, body, probs := readHeader(raw, true)
	hints := declaredCharsets(raw)
	if h.Len() == 0 {
		text := bytes.TrimPrefix(raw, utf8BOM)
		return nil, &NoHeaderError{Text: normalizeNewlines(undeclaredToUTF8(text, hints...))}
	}
	m.Problems = append(m.Problems, probs...)
	m.readHeader(h, hints)

	w := walker{m: m, max: opts.MaxAttachment, hints: hints}
	if w.max == 0 {
		w.max = defaultMaxAttachment
	}
	w.entity(h, body, 0, "text/plain", "")
	m.Text = joinParts(w.text)
	m.HTML = joinParts(w.html)
	m.Auto = IsAutomatic(mail.Header{Header: message.Header{Header: h}})
	return m, nil
}

func (m *Message) problem(p string) {
	if p == "" {
		return
	}
	for _, q := range m.Problems {
		if q == p {
			return
		}
	}
	if len(m.Problems) < 100 {
		m.Problems = append(m.Problems, p)
	}
}

// bareCRLines reports mail whose lines end in a lone CR: its first line
// end is a CR not followed by LF (nor by more CRs and an LF, "\r\r\n",
// which double conversion makes and which ends one line).
func bareCRLines(raw []byte) bool {
	i := bytes.IndexAny(raw, "\r\n")
	return i >= 0 && raw[i] == '\r' && !crRunEndsInLF(raw, i)
}

// crRunEndsInLF reports whether the CRs starting at raw[i] are followed by
// an LF.
func crRunEndsInLF(raw []byte, i int) bool {
	for i < len(raw) && raw[i] == '\r' {
		i++
	}
	return i < len(raw) && raw[i] == '\n'
}

// crToLF turns lone CRs into LFs, leaving CRLF (and CR CR LF) alone.
func crToLF(raw []byte) []byte {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		if raw[i] != '\r' {
			out = append(out, raw[i])
			i++
			continue
		}
		j := i
		for j < len(raw) && raw[j] == '\r' {
			j++
		}
		if j < len(raw) && raw[j] == '\n' {
			out = append(out, raw[i:j]...)
		} else {
			for range j - i {
				out = append(out, '\n')
			}
		}
		i = j
	}
	return out
}

// readHeader fills the fields that come from the top-level header; hints
// are the charsets the message declares (declaredCharsets).
func (m *Message) readHeader(h textproto.Header, hints []string) {
	// RFC 5322 3.6.4: identification fields.
	if v := h.Get("Message-Id"); strings.TrimSpace(v) != "" {
		if ids := parseMsgIDs(v); len(ids) > 0 {
			m.MessageID = ids[0]
		} else {
			m.problem("bad Message-ID header")
		}
	} else {
		m.problem("no Message-ID header")
	}
	m.InReplyTo = uniqueStrings(parseMsgIDs(strings.Join(h.Values("In-Reply-To"), " ")))
	m.References = uniqueStrings(parseMsgIDs(strings.Join(h.Values("References"), " ")))

	// RFC 5322 3.6.2: originator fields.
	if v := h.Get("From"); strings.TrimSpace(v) != "" {
		if from := parseAddressList(v, hints...); len(from) > 0 {
			m.From = from[0]
		} else {
			m.problem("bad From header")
		}
	} else {
		m.problem("no From header")
	}
	m.ReplyTo = addressField(h, "Reply-To", hints)
	m.To = addressField(h, "To", hints)
	m.Cc = addressField(h, "Cc", hints)

	// RFC 5321 4.4: Return-Path, added at final delivery. The first (top)
	// one is the envelope sender of this delivery; "<>" is a bounce.
	if rp := h.Values("Return-Path"); len(rp) > 0 {
		m.Sender, m.NullSender = parseReturnPath(rp[0])
	}

	subj, p := decodeHeaderText(h.Get("Subject"), hints...)
	m.Subject = cleanHeaderLine(subj)
	if p != "" {
		m.problem("Subject: " + p)
	}

	if v := h.Get("Date"); strings.TrimSpace(v) != "" {
		if t, ok := parseDate(v); ok {
			m.Date = t
		} else {
			m.problem("bad Date header")
		}
	} else {
		m.problem("no Date header")
	}

	for _, v := range h.Values("Authentication-Results") {
		m.AuthResults = append(m.AuthResults, strings.ToValidUTF8(v, "\uFFFD"))
	}
}

// addressField reads every field named key as one address list.
func addressField(h textproto.Header, key string, hints []string) []Address {
	var out []Address
	for _, v := range h.Values(key) {
		out = append(out, parseAddressList(v, hints...)...)
		if len(out) >= maxAddresses {
			return out[:maxAddresses]
		}
	}
	return out
}

// parseReturnPath reads a Return-Path value (RFC 5322 3.6.7 path); null
// reports the null reverse-path "<>".
func parseReturnPath(v string) (addr string, null bool) {
	v = strings.TrimSpace(v)
	if lt := strings.IndexByte(v, '<'); lt >= 0 {
		inner := v[lt+1:]
		if gt := strings.IndexByte(inner, '>'); gt >= 0 {
			inner = inner[:gt]
		}
		if strings.TrimSpace(inner) == "" {
			return "", true
		}
		v = inner
	}
	if as := parseAddressList("<" + v + ">"); len(as) > 0 {
		return as[0].Addr, false
	}
	return "", false
}

// walker walks the MIME tree (RFC 2046) and collects text and attachments.
type walker struct {
	m          *Message
	max        int64    // attachment bytes kept; < 0 keeps none
	hints      []string // charsets the message declares (declaredCharsets)
	parts      int
	text, html []string
}

// entity handles one entity: its header h and its raw body. inherit is
// the charset an enclosing entity declares, for a text part without one.
// It returns the entity's media type.
func (w *walker) entity(h textproto.Header, body []byte, depth int, defaultType, inherit string) string {
	w.parts++
	if w.parts > maxParts {
		w.m.problem("too many MIME parts: rest skipped")
		return ""
	}
	ct, params := parseParamValue(h.Get("Content-Type"), w.hints...)
	if ct == "" || strings.Count(ct, "/") != 1 || strings.HasPrefix(ct, "/") || strings.HasSuffix(ct, "/") {
		if ct != "" {
			w.m.problem("bad Content-Type " + quoteShort(ct))
		}
		ct, params = defaultType, nil
	}
	if cs := params["charset"]; cs != "" {
		inherit = cs
	}
	if strings.HasPrefix(ct, "multipart/") {
		w.multipart(ct, params, body, depth, inherit)
		return ct
	}
	w.leaf(h, ct, params, body, inherit)
	return ct
}

// multipart splits a multipart body and walks its parts. A body whose
// boundary cannot be found is read as text/plain so its text is not lost.
func (w *walker) multipart(ct string, params map[string]string, body []byte, depth int, inherit string) {
	if depth >= maxDepth {
		w.m.problem("MIME parts nested too deep: rest skipped")
		return
	}
	boundary := params["boundary"]
	if boundary == "" {
		w.m.problem("multipart without boundary parameter")
		boundary = guessBoundary(body)
	}
	var parts [][]byte
	found, closed, over := false, false, false
	if boundary != "" {
		parts, found, closed, over = splitMultipart(body, boundary, maxParts)
	}
	if !found && boundary != "" {
		w.m.problem("multipart boundary not found")
		// Some senders declare one boundary and use another.
		if g := guessBoundary(body); g != "" && g != boundary {
			parts, found, closed, over = splitMultipart(body, g, maxParts)
		}
	}
	if !found {
		var h textproto.Header
		w.leaf(h, "text/plain", nil, body, inherit)
		return
	}
	if !closed && !over {
		w.m.problem("multipart without closing boundary")
	}
	if over {
		w.m.problem("too many MIME parts: rest skipped")
	}
	childType := "text/plain"
	if ct == "multipart/digest" {
		childType = "message/rfc822" // RFC 2046 5.1.5
	}
	if ct != "multipart/alternative" {
		for _, p := range parts {
			w.part(p, depth, childType, inherit)
		}
		return
	}
	// RFC 2046 5.1.4: the parts are the same content in different forms.
	// Keep the plain text parts that are direct children (several of them
	// are several pieces of text, as some clients write them), else the
	// text of the first other part that has some (a multipart/related or
	// mixed); the same for HTML; and the attachments of all.
	var text, html, otherText, otherHTML []string
	for _, p := range parts {
		t0, h0 := len(w.text), len(w.html)
		pct := w.part(p, depth, childType, inherit)
		switch {
		case pct == "text/plain":
			text = append(text, w.text[t0:]...)
		case otherText == nil && len(w.text) > t0:
			otherText = append([]string(nil), w.text[t0:]...)
		}
		switch {
		case pct == "text/html":
			html = append(html, w.html[h0:]...)
		case otherHTML == nil && len(w.html) > h0:
			otherHTML = append([]string(nil), w.html[h0:]...)
		}
		w.text, w.html = w.text[:t0], w.html[:h0]
	}
	if len(text) == 0 {
		text = otherText
	}
	if len(html) == 0 {
		html = otherHTML
	}
	w.text = append(w.text, text...)
	w.html = append(w.html, html...)
}

// part reads the header of one body part of a multipart and walks it; it
// returns the part's media type.
func (w *walker) part(p []byte, depth int, defaultType, inherit string) string {
	ph, pbody, probs := readHeader(p, false)
	for _, q := range probs {
		w.m.problem(q)
	}
	return w.entity(ph, pbody, depth+1, defaultType, inherit)
}

// leaf handles a non-multipart entity: body text or attachment. A
// text/plain or text/html part is body text unless it is marked as an
// attachment or has a file name (RFC 2183).
// A text part without a charset parameter is read with the charset inherit
// of an enclosing entity when that fits (see detectCharset).
func (w *walker) leaf(h textproto.Header, ct string, params map[string]string, body []byte, inherit string) {
	disp, dparams := parseParamValue(h.Get("Content-Disposition"), w.hints...)
	name := dparams["filename"]
	if name == "" {
		name = params["name"]
	}
	data, p := decodeCTE(normCTE(h.Get("Content-Transfer-Encoding")), body)
	w.m.problem(p)

	if (ct == "text/plain" || ct == "text/html") && disp != "attachment" && strings.TrimSpace(name) == "" {
		hints := w.hints
		if params["charset"] == "" && inherit != "" {
			hints = append([]string{canonCharset(inherit)}, w.hints...)
		}
		var s string
		if ct == "text/html" {
			s, p = htmlToUTF8(params["charset"], data, hints...)
		} else {
			s, p = charsetToUTF8(params["charset"], data, hints...)
		}
		w.m.problem(p)
		s = normalizeNewlines(strings.TrimPrefix(s, "\uFEFF"))
		if ct == "text/plain" && strings.EqualFold(params["format"], "flowed") {
			s = unflow(s, strings.EqualFold(params["delsp"], "yes"))
		}
		if strings.TrimSpace(s) == "" {
			return
		}
		if ct == "text/html" {
			w.html = append(w.html, s)
		} else {
			w.text = append(w.text, s)
		}
		return
	}

	a := Attachment{
		Filename:    cleanFilename(name),
		ContentType: ct,
		Size:        int64(len(data)),
	}
	if a.Filename == "" {
		a.Filename = "attachment-" + strconv.Itoa(len(w.m.Attachments)+1)
	}
	keep := int64(len(data))
	if w.max < 0 {
		keep = 0
	} else if keep > w.max {
		keep = w.max
	}
	a.Truncated = keep < int64(len(data))
	// Copy so that the Message does not pin the raw input.
	a.Data = append([]byte(nil), data[:keep]...)
	w.m.Attachments = append(w.m.Attachments, a)
}

// normalizeNewlines turns CRLF and lone CR into LF.
func normalizeNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

// joinParts concatenates body parts, each starting on a new line.
func joinParts(ps []string) string {
	switch len(ps) {
	case 0:
		return ""
	case 1:
		return ps[0]
	}
	var b strings.Builder
	for i, p := range ps {
		b.WriteString(p)
		if i < len(ps)-1 && !strings.HasSuffix(p, "\n") {
			b.WriteByte('\n')
		}
	}
	return b.String()
}
