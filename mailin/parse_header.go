package mailin

import (
	"bytes"
	"encoding/hex"
	netmail "net/mail"
	nettextproto "net/textproto"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-message/textproto"
)

// Limits that keep a hostile header from costing unbounded memory or time.
const (
	// maxFieldBytes cuts one header field's value (RFC 5322 2.1.1 allows
	// 998 bytes a line, but folded fields such as References grow long).
	maxFieldBytes = 128 << 10
	// maxHeaderBytes is the budget for all header fields; beyond it only
	// fields helpdeskd reads (headerNeeded) are kept, up to maxHeaderHard.
	maxHeaderBytes = 1 << 20
	maxHeaderHard  = 4 << 20
	// maxHeaderFields bounds the number of fields kept.
	maxHeaderFields = 10000
	// maxDecodeBytes bounds the text given to the RFC 2047 decoder.
	maxDecodeBytes = 64 << 10
)

// headerNeeded lists the fields still kept once a giant header has used up
// maxHeaderBytes.
var headerNeeded = map[string]bool{
	"From": true, "To": true, "Cc": true, "Reply-To": true, "Subject": true, "Date": true,
	"Message-Id": true, "In-Reply-To": true, "References": true, "Return-Path": true,
	"Content-Type": true, "Content-Transfer-Encoding": true, "Content-Disposition": true,
	"Auto-Submitted": true, "Precedence": true, "List-Id": true, "List-Unsubscribe": true,
	"X-Autoreply": true, "X-Autorespond": true, "X-Loop": true, "Authentication-Results": true,
	"X-Ms-Exchange-Generated-Message-Source": true,
}

// rawHeaderField is one header field as read, before decoding.
type rawHeaderField struct {
	key   string // canonical (net/textproto.CanonicalMIMEHeaderKey)
	value []byte // unfolded, trimmed, raw bytes
}

// readHeader splits b into header fields and body. It is lenient, as a
// careful reader is: a leading UTF-8 byte-order mark and a leading mbox
// "From " line (top only) are skipped; a line that is not a valid field
// (RFC 5322 2.2: no colon, or a field name with spaces or control
// characters) is skipped and reported when a field follows it, and
// otherwise ends the header (the body starts there, as in mail that lacks
// the empty line); oversized fields are cut rather than refused (RFC 5322
// 2.2, 2.2.3). problems says what was skipped, cut or missing.
func readHeader(b []byte, top bool) (h textproto.Header, body []byte, problems []string) {
	var fields []rawHeaderField
	pos := 0
	if bytes.HasPrefix(b, utf8BOM) {
		pos = len(utf8BOM)
	}
	if top && hasPrefixFold(b[pos:], "From ") && !bytes.HasPrefix(bytes.TrimLeft(b[pos+5:], " \t"), []byte(":")) {
		// An mbox separator "From sender date", not "From : name" (RFC
		// 822's obsolete white space before the colon).
		pos = headerLineEnd(b, pos)
	}
	skipped := 0
	kept := 0
	dropped, cut := 0, false
	cur := -1 // index in fields of the field being continued, or -1
	body = b[len(b):]
	for pos < len(b) {
		next := headerLineEnd(b, pos)
		line := b[pos:next]
		line = trimLineEnd(line)
		if len(line) == 0 {
			body = b[next:]
			break
		}
		if line[0] == ' ' || line[0] == '\t' {
			// RFC 5322 2.2.3: unfolding keeps the white space.
			if cur >= 0 {
				f := &fields[cur]
				if room := maxFieldBytes - len(f.value); room > 0 {
					if len(line) > room {
						line, cut = line[:room], true
					}
					f.value = append(f.value, line...)
					kept += len(line)
				} else {
					cut = true
				}
			}
			pos = next
			continue
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || !validFieldName(trimWSP(line[:colon])) {
			if after := skipInvalidLine(b, next); after >= 0 {
				if skipped++; skipped <= 3 {
					problems = append(problems, "invalid header line skipped: "+quoteShort(string(line)))
				}
				cur = -1
				pos = after
				continue
			}
			if len(fields) > 0 || !top {
				if top {
					problems = append(problems, "header not ended by an empty line")
				}
				body = b[pos:]
			}
			break
		}
		key := nettextproto.CanonicalMIMEHeaderKey(string(trimWSP(line[:colon])))
		val := line[colon+1:]
		if len(val) > maxFieldBytes {
			val, cut = val[:maxFieldBytes], true
		}
		budget := kept+len(val) <= maxHeaderBytes || (headerNeeded[key] && kept+len(val) <= maxHeaderHard)
		if !budget || len(fields) >= maxHeaderFields {
			dropped++
			cur = -1
			pos = next
			continue
		}
		fields = append(fields, rawHeaderField{key: key, value: append([]byte(nil), val...)})
		kept += len(key) + len(val)
		cur = len(fields) - 1
		pos = next
	}
	if skipped > 3 {
		problems = append(problems, strconv.Itoa(skipped)+" invalid header lines skipped")
	}
	if cut {
		problems = append(problems, "header field cut to 128 KiB")
	}
	if dropped > 0 {
		problems = append(problems, "header too big: "+strconv.Itoa(dropped)+" fields dropped")
	}
	// textproto.Header.Add inserts at the top; add bottom-up to keep order.
	for i := len(fields) - 1; i >= 0; i-- {
		h.Add(fields[i].key, string(trimWSP(fields[i].value)))
	}
	return h, body, problems
}

// utf8BOM is the UTF-8 encoded byte-order mark U+FEFF that some Windows
// tools write at the start of a saved message.
var utf8BOM = []byte("\xef\xbb\xbf")

// skipInvalidLine decides what follows an invalid header line that ends at
// next: when its continuation lines (if any) are followed by a line that is
// plainly a header field, the invalid line is junk inside the header and
// skipInvalidLine returns where that field starts; else it returns -1 and
// the invalid line is taken as the start of the body.
func skipInvalidLine(b []byte, next int) int {
	pos := next
	for pos < len(b) && (b[pos] == ' ' || b[pos] == '\t') {
		pos = headerLineEnd(b, pos)
	}
	line := trimLineEnd(b[pos:headerLineEnd(b, pos)])
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 || !likelyFieldName(line[:colon]) {
		return -1
	}
	return pos
}

// commonFields are field names that mark a line as a header field for
// skipInvalidLine, beside the prefixes in likelyFieldName.
var commonFields = map[string]bool{
	"Received": true, "Mime-Version": true, "Sender": true, "Bcc": true, "Organization": true,
	"User-Agent": true, "Importance": true, "Priority": true, "Thread-Topic": true, "Thread-Index": true,
	"Delivered-To": true, "Dkim-Signature": true, "Comments": true, "Keywords": true, "Envelope-To": true,
	"Disposition-Notification-To": true, "Accept-Language": true, "Content-Language": true,
}

// likelyFieldName reports a field name that body text is very unlikely to
// start a line with: a known field, or an X-, Content-, List-, Resent-,
// ARC- or DKIM- field, written without spaces before the colon.
func likelyFieldName(k []byte) bool {
	if len(k) == 0 || !validFieldName(k) {
		return false
	}
	key := nettextproto.CanonicalMIMEHeaderKey(string(k))
	if headerNeeded[key] || commonFields[key] {
		return true
	}
	for _, p := range []string{"X-", "Content-", "List-", "Resent-", "Arc-", "Dkim-"} {
		if strings.HasPrefix(key, p) {
			return true
		}
	}
	return false
}

// headerLineEnd returns the index just past the next '\n' at or after pos, or
// len(b).
func headerLineEnd(b []byte, pos int) int {
	if i := bytes.IndexByte(b[pos:], '\n'); i >= 0 {
		return pos + i + 1
	}
	return len(b)
}

func trimLineEnd(line []byte) []byte {
	for len(line) > 0 && (line[len(line)-1] == '\n' || line[len(line)-1] == '\r') {
		line = line[:len(line)-1]
	}
	return line
}

func trimWSP(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// validFieldName: RFC 5322 3.6.8, printable US-ASCII except ':'.
func validFieldName(k []byte) bool {
	if len(k) == 0 {
		return false
	}
	for _, c := range k {
		if c < 33 || c > 126 || c == ':' {
			return false
		}
	}
	return true
}

func hasPrefixFold(b []byte, p string) bool {
	return len(b) >= len(p) && strings.EqualFold(string(b[:len(p)]), p)
}

// decodeHeaderText decodes an unstructured header value (RFC 5322 3.2.5)
// to valid UTF-8: raw 8-bit bytes are read as undeclared text, then RFC
// 2047 encoded words are decoded. problem is non-empty when part of it
// could not be read as declared. hints are the charsets the message
// declares elsewhere (declaredCharsets).
func decodeHeaderText(v string, hints ...string) (s string, problem string) {
	if len(v) > maxDecodeBytes {
		v = v[:maxDecodeBytes]
		problem = "header value cut to 64 KiB"
	}
	s, p := decodeWords(v, hints)
	if problem == "" {
		problem = p
	}
	return strings.ToValidUTF8(s, "\uFFFD"), problem
}

// decodeWords decodes RFC 2047 encoded words in v. It is lenient in the ways
// mail in the wild needs: words need not be separated from text by white
// space, Q text may contain spaces, and adjacent words in one charset are
// joined before the charset is decoded, so a multibyte character split
// between two words survives (RFC 2047 6.2 drops the white space between
// adjacent encoded words). UTF-16 and UTF-32 words are decoded one by one,
// since each may start with its own byte-order mark (RFC 2781 3.2). An
// unknown charset keeps the bytes, made valid UTF-8; hints help read words
// whose label does not fit their bytes (see charsetToUTF8). Raw 8-bit
// bytes inside a word are read in the word's charset; those outside words
// are undeclared text, read all in the one charset detectCharset names
// for them (with hints).
func decodeWords(v string, hints []string) (string, string) {
	if !strings.Contains(v, "=?") {
		if utf8.ValidString(v) {
			return v, ""
		}
		return undeclaredToUTF8([]byte(v), hints...), ""
	}
	var out pieces
	var (
		problem  string
		pendCS   string
		pendData []byte
		pending  bool
		gapStart = -1 // start of white space after a word, not yet written
	)
	closer := indexCache{s: v, sub: "?="}
	opener := indexCache{s: v, sub: "=?"}
	flush := func() {
		if !pending {
			return
		}
		s, p := charsetToUTF8(pendCS, pendData, hints...)
		if p != "" && problem == "" {
			problem = "encoded word: " + p
		}
		if isWideLabel(pendCS) {
			s = strings.ReplaceAll(s, "\uFEFF", "")
		}
		out.add(s, false)
		pending, pendData = false, pendData[:0]
	}
	i := 0
	for i < len(v) {
		if v[i] == '=' && i+1 < len(v) && v[i+1] == '?' {
			if cs, data, end, ok := scanEncodedWord(v, i, &closer, &opener); ok {
				if pending && (cs != pendCS || isWideLabel(cs)) {
					flush()
				}
				if !pending {
					pendCS, pending = cs, true
				}
				pendData = append(pendData, data...)
				gapStart = -1
				i = end
				continue
			}
		}
		if pending && (v[i] == ' ' || v[i] == '\t') {
			if gapStart < 0 {
				gapStart = i
			}
			i++
			continue
		}
		if pending {
			flush()
			if gapStart >= 0 {
				out.add(v[gapStart:i], true)
				gapStart = -1
			}
		}
		j := i + 1
		for j < len(v) && v[j] != '=' && v[j] != ' ' && v[j] != '\t' {
			j++
		}
		out.add(v[i:j], true)
		i = j
	}
	flush()
	if gapStart >= 0 {
		out.add(v[gapStart:], true)
	}
	return out.join(hints), problem
}

// pieces collects decoded text and raw (undeclared) text in order.
type pieces struct {
	list []piece
}

type piece struct {
	b   []byte
	raw bool
}

func (p *pieces) add(s string, raw bool) {
	if n := len(p.list); n > 0 && p.list[n-1].raw == raw {
		p.list[n-1].b = append(p.list[n-1].b, s...)
		return
	}
	p.list = append(p.list, piece{[]byte(s), raw})
}

// join returns the text with the raw pieces read as undeclared text: all
// in one charset, detected on all of them together.
func (p *pieces) join(hints []string) string {
	var raw []byte
	for _, q := range p.list {
		if q.raw {
			raw = append(raw, q.b...)
		}
	}
	label := ""
	if !utf8.Valid(raw) {
		label = detectCharset(raw, hints)
	}
	var b strings.Builder
	for _, q := range p.list {
		if q.raw && label != "" {
			b.WriteString(decodeDetected(label, q.b, hints))
		} else {
			b.Write(q.b)
		}
	}
	return b.String()
}

// isWideLabel reports the UTF-16 and UTF-32 charsets (and UCS-2).
func isWideLabel(cs string) bool {
	return strings.HasPrefix(cs, "utf-16") || strings.HasPrefix(cs, "utf-32") || strings.HasPrefix(cs, "ucs-2") || strings.HasPrefix(cs, "utf16")
}

// maxWordText bounds the encoded text of one encoded word (RFC 2047 2 says
// 75 bytes for the whole word; senders exceed it).
const maxWordText = 2048

// scanEncodedWord parses "=?charset?Q?text?=" at v[i:]. It returns the
// normalized charset, the decoded bytes and the index after the word.
func scanEncodedWord(v string, i int, closer, opener *indexCache) (cs string, data []byte, end int, ok bool) {
	j := i + 2
	k := j
	for k < len(v) && k-j <= 75 {
		c := v[k]
		if c == '?' {
			break
		}
		if c <= ' ' || c >= 0x7f || c == '=' || c == '"' || c == '(' || c == ')' {
			return "", nil, 0, false
		}
		k++
	}
	if k == j || k+2 >= len(v) || v[k] != '?' || v[k+2] != '?' {
		return "", nil, 0, false
	}
	enc := v[k+1] | 0x20
	if enc != 'q' && enc != 'b' {
		return "", nil, 0, false
	}
	start := k + 3
	c := closer.next(start)
	if c < 0 || c-start > maxWordText {
		return "", nil, 0, false
	}
	if o := opener.next(start); o >= 0 && o+1 < c {
		// Another word starts before this one ends: not a word. (The
		// "=?" of base64 padding followed by "?=" ends at c+1.)
		return "", nil, 0, false
	}
	text := v[start:c]
	if enc == 'b' {
		data, _ = decodeBase64([]byte(text))
	} else {
		data = decodeQWord(text)
	}
	return normCharset(v[j:k]), data, c + 2, true
}

// indexCache answers "index of sub at or after pos" for positions that
// mostly move forward, in amortized linear time over a whole scan.
type indexCache struct {
	s, sub   string
	from, at int // sub first occurs at or after from at index at (-1: never)
	valid    bool
}

func (c *indexCache) next(pos int) int {
	if c.valid && pos >= c.from && (c.at < 0 || pos <= c.at) {
		return c.at
	}
	if c.valid && pos < c.from {
		// Look only in the gap [pos, from+len(sub)-1) we have not searched.
		end := min(c.from+len(c.sub)-1, len(c.s))
		if i := strings.Index(c.s[pos:end], c.sub); i >= 0 {
			return pos + i
		}
		if c.at < 0 || pos <= c.at {
			return c.at
		}
	}
	c.from, c.valid = pos, true
	if i := strings.Index(c.s[pos:], c.sub); i >= 0 {
		c.at = pos + i
	} else {
		c.at = -1
	}
	return c.at
}

// decodeQWord decodes RFC 2047 4.2 "Q" text; a bad escape stays as is.
func decodeQWord(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_':
			out = append(out, ' ')
		case c == '=' && i+2 < len(s) && isHexDigit(s[i+1]) && isHexDigit(s[i+2]):
			b, _ := hex.DecodeString(s[i+1 : i+3])
			out = append(out, b[0])
			i += 2
		default:
			out = append(out, c)
		}
	}
	return out
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// cleanHeaderLine removes CR, LF and NUL from a decoded header value.
func cleanHeaderLine(s string) string {
	if !strings.ContainsAny(s, "\r\n\x00") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == 0 {
			return -1
		}
		return r
	}, s)
}

// parseMsgIDs returns the message IDs in a Message-ID, In-Reply-To or
// References value (RFC 5322 3.6.4), without angle brackets, in order.
// Values without brackets (broken clients) fall back to the words that
// contain '@'.
func parseMsgIDs(v string) []string {
	v = strings.ToValidUTF8(v, "")
	var ids []string
	rest := v
	for {
		lt := strings.IndexByte(rest, '<')
		if lt < 0 {
			break
		}
		gt := strings.IndexByte(rest[lt+1:], '>')
		if gt < 0 {
			break
		}
		id := cleanMsgID(rest[lt+1 : lt+1+gt])
		if id != "" {
			ids = append(ids, id)
		}
		rest = rest[lt+1+gt+1:]
	}
	if len(ids) == 0 {
		for _, w := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == '\t' || r == ',' || r == '<' || r == '>' }) {
			if strings.Contains(w, "@") {
				if id := cleanMsgID(w); id != "" {
					ids = append(ids, id)
				}
			}
		}
	}
	return ids
}

// cleanMsgID drops white space and control characters from an ID.
func cleanMsgID(s string) string {
	return strings.Map(func(r rune) rune {
		if r <= ' ' || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
}

// uniqueStrings drops repeated entries, keeping the first of each.
func uniqueStrings(in []string) []string {
	if len(in) < 2 {
		return in
	}
	seen := make(map[string]bool, len(in))
	out := in[:0]
	for _, s := range in {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// dateLayouts are tried after net/mail.ParseDate (RFC 5322 3.3 with the
// obsolete forms) fails.
var dateLayouts = []string{
	"Mon, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 2006 15:04:05 MST",
	"Mon, 2 Jan 2006 15:04 -0700",
	"2 Jan 2006 15:04:05 -0700",
	"Mon, 2 Jan 06 15:04:05 -0700",
	"Mon, 2 Jan 06 15:04:05 MST",
	"Mon, 02 Jan 2006 15:04:05 -0700",
	"Monday, 2 Jan 2006 15:04:05 -0700",
	"Mon, 2 January 2006 15:04:05 -0700",
	"Mon Jan 2 15:04:05 2006",
	"Mon Jan 2 15:04:05 MST 2006",
	"Mon Jan 2 15:04:05 -0700 2006",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05 MST",
	"2006-01-02 15:04:05",
	time.RFC3339,
}

// parseDate reads a Date value; ok is false when it cannot be read.
func parseDate(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" || !utf8.ValidString(v) {
		return time.Time{}, false
	}
	if t, err := netmail.ParseDate(v); err == nil {
		return t, true
	}
	// Drop comments such as "(CST)" and collapse white space.
	var b strings.Builder
	depth := 0
	for _, r := range v {
		switch {
		case r == '(':
			depth++
		case r == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	s := strings.Join(strings.Fields(b.String()), " ")
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
