package mailin

import (
	"bytes"
	"encoding/base64"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// parseParamValue parses a Content-Type or Content-Disposition value
// (RFC 2045 5.1, RFC 2183 2) into its lowercased value and parameters.
// Parameter names are lowercased; values are decoded to valid UTF-8,
// including RFC 2231 continuations and charsets (any charset, unlike
// mime.ParseMediaType) and, as mail in the wild needs, RFC 2047 encoded
// words and raw 8-bit bytes. It never fails: what cannot be parsed is
// skipped. hints are the charsets the message declares elsewhere, for raw
// 8-bit values.
func parseParamValue(v string, hints ...string) (value string, params map[string]string) {
	v = strings.TrimSpace(v)
	end := strings.IndexAny(v, "; \t")
	if end < 0 {
		end = len(v)
	}
	value = strings.ToLower(strings.Trim(v[:end], `"`))
	value = strings.ToValidUTF8(value, "")
	rest := v[end:]

	type segment struct {
		val string
		ext bool
	}
	plain := map[string]string{}
	single := map[string]string{}         // name* (RFC 2231 4)
	multi := map[string]map[int]segment{} // name*N, name*N* (RFC 2231 3)
	for len(rest) > 0 {
		rest = strings.TrimLeft(rest, "; \t")
		if rest == "" {
			break
		}
		eq := strings.IndexAny(rest, "=;")
		if eq < 0 {
			break
		}
		if rest[eq] == ';' {
			rest = rest[eq:]
			continue
		}
		name := strings.ToLower(strings.TrimSpace(rest[:eq]))
		rest = strings.TrimLeft(rest[eq+1:], " \t")
		var val string
		if strings.HasPrefix(rest, `"`) {
			val, rest = readQuoted(rest)
		} else {
			semi := strings.IndexByte(rest, ';')
			if semi < 0 {
				semi = len(rest)
			}
			val, rest = strings.TrimSpace(rest[:semi]), rest[semi:]
		}
		if name == "" || len(plain)+len(single)+len(multi) > 100 {
			continue
		}
		star := strings.IndexByte(name, '*')
		switch {
		case star < 0:
			if _, ok := plain[name]; !ok {
				plain[name] = val
			}
		case star == len(name)-1:
			base := name[:star]
			if _, ok := single[base]; !ok {
				single[base] = val
			}
		default:
			base, num := name[:star], name[star+1:]
			ext := strings.HasSuffix(num, "*")
			num = strings.TrimSuffix(num, "*")
			n, err := strconv.Atoi(num)
			if err != nil || n < 0 || n > 999 {
				continue
			}
			if multi[base] == nil {
				multi[base] = map[int]segment{}
			}
			if _, ok := multi[base][n]; !ok {
				multi[base][n] = segment{val, ext}
			}
		}
	}

	params = make(map[string]string, len(plain)+len(single)+len(multi))
	for k, v := range plain {
		if k == "boundary" {
			params[k] = v // compared byte for byte with the body
			continue
		}
		params[k], _ = decodeHeaderText(v, hints...)
	}
	for k, segs := range multi {
		nums := make([]int, 0, len(segs))
		for n := range segs {
			nums = append(nums, n)
		}
		sort.Ints(nums)
		var raw []byte
		cs := ""
		extended := false
		for i, n := range nums {
			if n != i {
				break // RFC 2231 3: sections are numbered from 0 without gaps
			}
			seg := segs[n]
			if seg.ext {
				extended = true
				val := seg.val
				if n == 0 {
					var ok bool
					if cs, val, ok = splitCharsetLang(val); !ok {
						val = seg.val
					}
				}
				raw = append(raw, percentDecode(val)...)
			} else {
				raw = append(raw, seg.val...)
			}
		}
		if len(raw) == 0 {
			continue
		}
		if extended && cs != "" {
			params[k], _ = charsetToUTF8(cs, raw, hints...)
		} else {
			params[k], _ = decodeHeaderText(string(raw), hints...)
		}
	}
	for k, v := range single {
		cs, val, ok := splitCharsetLang(v)
		if !ok {
			params[k], _ = decodeHeaderText(v, hints...)
			continue
		}
		params[k], _ = charsetToUTF8(cs, percentDecode(val), hints...)
	}
	return value, params
}

// readQuoted reads an RFC 5322 quoted-string at the start of s and returns
// its content and the rest. An unterminated string runs to the end.
func readQuoted(s string) (val, rest string) {
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
				// Keep a backslash before anything but a quote or a
				// backslash: Windows clients send unescaped paths.
				if s[i] != '"' && s[i] != '\\' {
					b.WriteByte('\\')
				}
				b.WriteByte(s[i])
			}
		case '"':
			return b.String(), s[i+1:]
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String(), ""
}

// splitCharsetLang splits an RFC 2231 extended value charset'lang'text.
func splitCharsetLang(v string) (cs, text string, ok bool) {
	i := strings.IndexByte(v, '\'')
	if i < 0 {
		return "", v, false
	}
	j := strings.IndexByte(v[i+1:], '\'')
	if j < 0 {
		return "", v, false
	}
	return v[:i], v[i+1+j+1:], true
}

// percentDecode decodes RFC 2231 %XX escapes; a bad escape stays as is.
func percentDecode(s string) []byte {
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHexDigit(s[i+1]) && isHexDigit(s[i+2]) {
			out = append(out, hexDigitVal(s[i+1])<<4|hexDigitVal(s[i+2]))
			i += 2
			continue
		}
		out = append(out, s[i])
	}
	return out
}

func hexDigitVal(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// normCTE normalizes a Content-Transfer-Encoding value (RFC 2045 6.1).
func normCTE(v string) string {
	v = strings.ToLower(strings.Trim(strings.TrimSpace(v), `"`))
	if i := strings.IndexAny(v, "; \t("); i >= 0 {
		v = v[:i]
	}
	return v
}

// decodeCTE undoes a Content-Transfer-Encoding. problem is non-empty when
// the body was damaged (what could be decoded is still returned) or the
// encoding is unknown (the raw body is returned).
func decodeCTE(cte string, body []byte) (data []byte, problem string) {
	switch cte {
	case "base64":
		d, bad := decodeBase64(body)
		if bad {
			problem = "broken base64"
		}
		return d, problem
	case "quoted-printable":
		return decodeQP(body), ""
	case "", "7bit", "8bit", "binary", "7-bit", "8-bit":
		return body, ""
	}
	return body, "unknown Content-Transfer-Encoding " + quoteShort(cte)
}

var base64Val = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	const alpha = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for i := 0; i < len(alpha); i++ {
		t[alpha[i]] = int8(i)
	}
	return t
}()

// decodeBase64 decodes base64 (RFC 2045 6.8) leniently: white space is
// skipped, other characters outside the alphabet are skipped and reported,
// padding may be missing, and several padded runs may follow each other.
// What follows the padding is read only when it is base64 itself (a run
// of whole 4-character groups); else it is text that a gateway appended
// (a disclaimer, a scanner's note) and is dropped, as RFC 2045 6.8 says
// the padding ends the data. bad reports skipped characters or a
// truncated final group.
func decodeBase64(in []byte) (out []byte, bad bool) {
	if out, ok := decodeBase64Lines(in); ok {
		return out, false
	}
	return decodeBase64Lenient(in)
}

// decodeBase64Lines decodes base64 as nearly every mailer writes it, with
// the standard library's decoder: lines of whole groups, padding only at
// the end. ok is false for anything else (white space other than line
// ends, a line of partial groups, text after the padding), which
// decodeBase64Lenient then reads; where ok is true both give the same
// bytes.
func decodeBase64Lines(in []byte) (out []byte, ok bool) {
	out = make([]byte, len(in)*3/4+3)
	n, padded := 0, false
	for len(in) > 0 {
		line := in
		if i := bytes.IndexByte(in, '\n'); i >= 0 {
			line, in = in[:i], in[i+1:]
		} else {
			in = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			continue
		}
		if padded || len(line)%4 != 0 {
			return nil, false
		}
		k, err := base64.StdEncoding.Decode(out[n:], line)
		if err != nil {
			return nil, false
		}
		n += k
		padded = line[len(line)-1] == '='
	}
	return out[:n], true
}

// decodeBase64Lenient is decodeBase64 for any input.
func decodeBase64Lenient(in []byte) (out []byte, bad bool) {
	out = make([]byte, 0, len(in)*3/4+3)
	var q [4]byte
	n := 0
	padded, restChecked := false, false
	for i, c := range in {
		if padded && !restChecked && c != '=' && !isBase64Space(c) {
			if !base64Groups(in[i:]) {
				return out, true
			}
			restChecked = true
		}
		if v := base64Val[c]; v >= 0 {
			q[n] = byte(v)
			n++
			if n == 4 {
				out = append(out, q[0]<<2|q[1]>>4, q[1]<<4|q[2]>>2, q[2]<<6|q[3])
				n = 0
			}
			continue
		}
		switch c {
		case '=':
			switch n {
			case 1:
				bad = true
			case 2:
				out = append(out, q[0]<<2|q[1]>>4)
			case 3:
				out = append(out, q[0]<<2|q[1]>>4, q[1]<<4|q[2]>>2)
			}
			n = 0
			padded = true
		case ' ', '\t', '\r', '\n', '\f', '\v':
		default:
			bad = true
		}
	}
	switch n {
	case 1:
		bad = true
	case 2:
		out = append(out, q[0]<<2|q[1]>>4)
	case 3:
		out = append(out, q[0]<<2|q[1]>>4, q[1]<<4|q[2]>>2)
	}
	return out, bad
}

func isBase64Space(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'
}

// base64Groups reports whether b is lines of base64: whole groups of four
// characters of the alphabet or '=', white space only at line ends.
func base64Groups(b []byte) bool {
	n := 0
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case base64Val[c] >= 0 || c == '=':
			n++
		case c == '\r' || c == '\n':
		case c == ' ' || c == '\t':
			j := i
			for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
				j++
			}
			if j < len(b) && b[j] != '\r' && b[j] != '\n' {
				return false // words, not base64
			}
			i = j - 1
		default:
			return false
		}
	}
	return n%4 == 0
}

// decodeQP decodes quoted-printable (RFC 2045 6.7) leniently: trailing
// white space is dropped (rule 3), "=" at the end of a line joins it with
// the next (rule 5), and a bad escape is kept literally.
func decodeQP(in []byte) []byte {
	out := make([]byte, 0, len(in))
	for len(in) > 0 {
		var line []byte
		nl := false
		if i := bytes.IndexByte(in, '\n'); i >= 0 {
			line, in, nl = in[:i], in[i+1:], true
		} else {
			line, in = in, nil
		}
		line = bytes.TrimRight(line, " \t\r")
		soft := false
		if len(line) > 0 && line[len(line)-1] == '=' {
			soft, line = true, line[:len(line)-1]
		}
		for i := 0; i < len(line); i++ {
			c := line[i]
			if c == '=' && i+2 < len(line) && isHexDigit(line[i+1]) && isHexDigit(line[i+2]) {
				out = append(out, hexDigitVal(line[i+1])<<4|hexDigitVal(line[i+2]))
				i += 2
				continue
			}
			out = append(out, c)
		}
		if nl && !soft {
			out = append(out, '\r', '\n')
		}
	}
	return out
}

// maxParts bounds the entities of one message; maxDepth their nesting.
const (
	maxParts = 1000
	maxDepth = 32
)

// splitMultipart splits a multipart body at its boundary delimiter lines
// (RFC 2046 5.1.1): a line starting with "--"+boundary followed only by
// white space; the close delimiter adds "--". The CRLF before a delimiter
// belongs to it. The preamble and epilogue are dropped. found reports a
// delimiter, closed the close delimiter; without it the last part runs to
// the end of the body. At most limit parts are returned; more reports
// over.
func splitMultipart(body []byte, boundary string, limit int) (parts [][]byte, found, closed, over bool) {
	delim := []byte("--" + boundary)
	pos := 0
	start := -1
	for pos < len(body) {
		next := headerLineEnd(body, pos)
		line := body[pos:next]
		if bytes.HasPrefix(line, delim) {
			rest := bytes.TrimRight(line[len(delim):], " \t\r\n")
			isClose := bytes.HasPrefix(rest, []byte("--"))
			if len(rest) == 0 || isClose {
				found = true
				if start >= 0 {
					if len(parts) >= limit {
						return parts, found, closed, true
					}
					parts = append(parts, trimDelimCRLF(body[start:pos]))
				}
				if isClose {
					return parts, found, true, over
				}
				start = next
			}
		}
		pos = next
	}
	if start >= 0 && start < len(body) {
		if len(parts) >= limit {
			return parts, found, closed, true
		}
		parts = append(parts, body[start:])
	}
	return parts, found, closed, over
}

func trimDelimCRLF(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
		}
	}
	return b
}

// guessBoundary finds a boundary for a multipart body whose Content-Type
// lacks one: the first line that looks like a delimiter ("--" and a
// token) and occurs again.
func guessBoundary(body []byte) string {
	pos := 0
	tries := 0
	for lines := 0; pos < len(body) && lines < 200 && tries < 3; lines++ {
		next := headerLineEnd(body, pos)
		line := bytes.TrimRight(body[pos:next], " \t\r\n")
		if len(line) > 3 && len(line) <= 72 && line[0] == '-' && line[1] == '-' && bytes.IndexAny(line, " \t") < 0 {
			b := string(line[2:])
			tries++
			if bytes.Count(body, line) >= 2 || bytes.Contains(body, append(append([]byte(nil), line...), '-', '-')) {
				return b
			}
		}
		pos = next
	}
	return ""
}

// cleanFilename makes an attachment name safe to show and store: valid
// UTF-8, no directory part (neither '/' nor '\'), no control characters,
// no leading dots, at most 255 bytes.
func cleanFilename(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if i := strings.LastIndexAny(s, `/\`); i >= 0 {
		s = s[i+1:]
	}
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return -1
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	s = strings.TrimLeft(s, ". ")
	const max = 255
	if len(s) > max {
		ext := ""
		if i := strings.LastIndexByte(s, '.'); i >= 0 && len(s)-i <= 16 {
			ext = s[i:]
		}
		cut := max - len(ext)
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + ext
	}
	return s
}
