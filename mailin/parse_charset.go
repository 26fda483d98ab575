package mailin

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	htmlcharset "golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Charset handling. Everything that leaves this package is valid UTF-8:
// declared charsets go through go-message/charset (x/text, plus UTF-7
// registered in parse_utf7.go); undeclared 8-bit text (raw bytes in a
// header, a body without a charset parameter) and text whose declaration
// is plainly wrong (UTF-8 or GBK labelled ISO-8859-1 or US-ASCII) are read
// by detectCharset (parse_detect.go): UTF-8 when valid, else a charset the
// message declares elsewhere that fits, else what the text itself shows,
// else windows-1252, which decodes any byte.

// normCharset returns the lowercased charset label without quotes, spaces
// and an RFC 2231 section 5 language suffix ("utf-8*en").
func normCharset(label string) string {
	label = strings.ToLower(strings.Trim(strings.TrimSpace(label), `"' `))
	if i := strings.IndexByte(label, '*'); i >= 0 {
		label = label[:i]
	}
	return label
}

// isGBLabel reports whether label names GB2312, GBK or GB18030. All are
// decoded as GB18030: mail labelled GB2312 routinely contains GBK-only
// characters.
func isGBLabel(label string) bool {
	switch label {
	case "gb2312", "gbk", "gb18030", "cp936", "x-gbk", "euc-cn", "x-euc-cn",
		"csgb2312", "gb_2312-80", "gb_2312", "ms936", "windows-936", "csgbk", "chinese", "csiso58gb231280", "iso-ir-58":
		return true
	}
	return false
}

// charsetAliases maps labels that Windows and old clients send, and that
// the x/text indexes do not know, to ones they do.
var charsetAliases = map[string]string{
	"cp950": "big5", "ms950": "big5", "windows-950": "big5", "x-big5": "big5", "big5-hkscs": "big5",
	"cp932": "shift_jis", "ms932": "shift_jis", "windows-932": "shift_jis",
	"cp949": "euc-kr", "ms949": "euc-kr", "windows-949": "euc-kr", "uhc": "euc-kr",
	"utf8mb4": "utf-8",
}

// charsetToUTF8 converts b from the charset named label to valid UTF-8.
// hints are the charsets the message declares elsewhere (see
// declaredCharsets); they decide for undeclared text and for text that
// its label does not fit. problem is "" when the text could be read as
// declared.
func charsetToUTF8(label string, b []byte, hints ...string) (s string, problem string) {
	label = canonCharset(label)
	switch {
	case label == "" || label == "unknown-8bit" || label == "x-unknown-8bit" || label == "default":
		// RFC 1428 unknown-8bit says as much as no charset at all.
		return undeclaredToUTF8(b, hints...), ""
	case label == "us-ascii" || label == "ascii" || label == "ansi_x3.4-1968" || label == "iso646-us" || label == "cp367" || label == "us":
		// 8-bit text labelled ASCII is common; read it as if undeclared.
		return undeclaredToUTF8(b, hints...), ""
	case label == "utf-8" || label == "utf8" || label == "x-utf-8" || label == "x-utf_8j":
		if utf8.Valid(b) {
			return string(b), ""
		}
		if high, _ := highByteStats(b); high >= 2 && !hasUTF8Sequence(b) {
			// Several non-ASCII bytes and not one UTF-8 character among
			// them: the label lies, and the text is read as if undeclared.
			return decodeDetected(detectCharset(b, hints), b, hints), "text labelled " + label + " is not UTF-8"
		}
		return strings.ToValidUTF8(string(b), "\uFFFD"), "invalid UTF-8 in " + label + " text"
	case isGBLabel(label):
		if hasHighByte(b) && utf8.Valid(b) && !decodesCleanly(label, b) {
			// UTF-8 text under a GB label (webmail does this): it is
			// valid UTF-8 and not valid GB18030.
			return string(b), "text labelled " + label + " is UTF-8"
		}
		return decodeWith(simplifiedchinese.GB18030, b)
	case isLatin1Label(label):
		return latin1ToUTF8(b, hints), ""
	}
	r, err := charset.Reader(label, bytes.NewReader(b))
	if err != nil {
		// Unknown charset: keep the raw text, made valid UTF-8.
		return undeclaredToUTF8(b, hints...), "unknown charset " + quoteShort(label)
	}
	out, err := io.ReadAll(r)
	s = strings.ToValidUTF8(string(out), "\uFFFD")
	if err != nil {
		return s, "charset " + quoteShort(label) + ": text only partly decoded"
	}
	return s, ""
}

// latin1ToUTF8 reads text labelled ISO-8859-1 or windows-1252 as
// windows-1252, unless it is plainly something else: valid UTF-8 with
// non-ASCII characters (a common mislabel, and Latin-1 text almost never
// forms valid UTF-8 sequences), or, when its non-ASCII bytes come in
// pairs, a multibyte charset the message declares elsewhere or that the
// text shows (CJK mail sent through a client that labels everything
// ISO-8859-1).
func latin1ToUTF8(b []byte, hints []string) string {
	if !hasHighByte(b) {
		return string(b)
	}
	if utf8.Valid(b) {
		return string(b)
	}
	if !latinLike(b) {
		for _, h := range hints {
			if isMultibyteLabel(h) && decodesCleanly(h, b) {
				return undeclaredToUTF8(b, h)
			}
		}
		if l := detectByText(b, 4); l != "" && isMultibyteLabel(l) {
			return undeclaredToUTF8(b, l)
		}
	}
	out, _ := charmap.Windows1252.NewDecoder().Bytes(b)
	return strings.ToValidUTF8(string(out), "\uFFFD")
}

// hasUTF8Sequence reports whether b holds at least one valid multibyte
// UTF-8 sequence.
func hasUTF8Sequence(b []byte) bool {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if n > 1 && r != utf8.RuneError {
			return true
		}
		b = b[n:]
	}
	return false
}

func hasHighByte(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}

// lookupCharset finds the x/text encoding for a label the way
// go-message/charset does.
func lookupCharset(label string) (encoding.Encoding, error) {
	enc, err := ianaindex.MIME.Encoding(label)
	if enc == nil {
		enc, err = ianaindex.MIME.Encoding("cs" + label)
	}
	if enc == nil {
		enc, err = htmlindex.Get(label)
	}
	if err == nil && enc == nil {
		err = errors.New("unsupported charset")
	}
	return enc, err
}

// decodeWith decodes b with enc. x/text decoders replace bytes that are not
// valid in the charset by U+FFFD and do not fail.
func decodeWith(enc encoding.Encoding, b []byte) (string, string) {
	out, err := enc.NewDecoder().Bytes(b)
	s := strings.ToValidUTF8(string(out), "\uFFFD")
	if err != nil {
		return s, "charset decode error"
	}
	return s, ""
}

// undeclaredToUTF8 reads text whose charset nobody declared, in the
// charset detectCharset names for it given the message's other
// declarations hints.
func undeclaredToUTF8(b []byte, hints ...string) string {
	if utf8.Valid(b) && bytes.IndexByte(b, 0x1b) < 0 {
		return string(b)
	}
	return decodeDetected(detectCharset(b, hints), b, hints)
}

// decodeDetected decodes b in the charset label that detectCharset named.
func decodeDetected(label string, b []byte, hints []string) string {
	switch {
	case label == "utf-8":
		return string(b)
	case isGBLabel(label):
		s, _ := decodeWith(simplifiedchinese.GB18030, b)
		return s
	case isLatin1Label(label):
		return latin1ToUTF8(b, hints)
	}
	if enc, err := lookupCharset(label); err == nil {
		s, _ := decodeWith(enc, b)
		return s
	}
	s, _ := decodeWith(charmap.Windows1252, b)
	return s
}

// cleanGB18030 decodes b as GB18030 and reports whether every byte was part
// of a valid sequence.
func cleanGB18030(b []byte) (string, bool) {
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(b)
	if err != nil || !utf8.Valid(out) {
		return "", false
	}
	if bytes.Count(out, []byte("\uFFFD")) > bytes.Count(b, []byte("\uFFFD")) {
		return "", false
	}
	return string(out), true
}

// htmlToUTF8 decodes an HTML body. Without a charset parameter in the MIME
// header, a <meta charset> in the first 1024 bytes (HTML5 prescan) decides
// before the undeclared-text rules; RFC 2045 makes the MIME header win when
// both are present.
func htmlToUTF8(label string, b []byte, hints ...string) (string, string) {
	if normCharset(label) != "" || utf8.Valid(b) {
		return charsetToUTF8(label, b, hints...)
	}
	enc, name, _ := htmlcharset.DetermineEncoding(b, "text/html")
	if enc == nil || name == "windows-1252" || name == "utf-8" {
		return undeclaredToUTF8(b, hints...), ""
	}
	return charsetToUTF8(name, b, hints...)
}

// quoteShort quotes a label for a problem message, cut to a sane length.
func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return `"` + strings.ToValidUTF8(s, "?") + `"`
}
