package mailin

import (
	"bytes"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	htmlcharset "golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Charset handling. Everything that leaves this package is valid UTF-8:
// declared charsets go through go-message/charset (x/text, plus UTF-7
// registered in parse_utf7.go); undeclared 8-bit text (raw bytes in a
// header, a body without a charset parameter) is read as UTF-8 when it is
// valid, else as GB18030 (a superset of GB2312 and GBK, what most of our
// customers' clients send without saying so) when that decodes cleanly,
// else as windows-1252, which decodes any byte.

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
// problem is "" when the text could be read as declared.
func charsetToUTF8(label string, b []byte) (s string, problem string) {
	label = normCharset(label)
	if a, ok := charsetAliases[label]; ok {
		label = a
	}
	switch {
	case label == "" || label == "unknown-8bit" || label == "x-unknown-8bit" || label == "default":
		// RFC 1428 unknown-8bit says as much as no charset at all.
		return undeclaredToUTF8(b), ""
	case label == "us-ascii" || label == "ascii" || label == "ansi_x3.4-1968" || label == "iso646-us" || label == "cp367" || label == "us":
		// 8-bit text labelled ASCII is common; read it as if undeclared.
		return undeclaredToUTF8(b), ""
	case label == "utf-8" || label == "utf8" || label == "x-utf-8" || label == "x-utf_8j":
		if utf8.Valid(b) {
			return string(b), ""
		}
		return strings.ToValidUTF8(string(b), "\uFFFD"), "invalid UTF-8 in " + label + " text"
	case isGBLabel(label):
		return decodeWith(simplifiedchinese.GB18030, b)
	}
	r, err := charset.Reader(label, bytes.NewReader(b))
	if err != nil {
		// Unknown charset: keep the raw text, made valid UTF-8.
		return undeclaredToUTF8(b), "unknown charset " + quoteShort(label)
	}
	out, err := io.ReadAll(r)
	s = strings.ToValidUTF8(string(out), "\uFFFD")
	if err != nil {
		return s, "charset " + quoteShort(label) + ": text only partly decoded"
	}
	return s, ""
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

// undeclaredToUTF8 reads text whose charset nobody declared: UTF-8 when it
// is valid, else GB18030 when that decodes without replacement characters,
// else windows-1252.
func undeclaredToUTF8(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	if s, ok := cleanGB18030(b); ok {
		return s
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return strings.ToValidUTF8(string(out), "\uFFFD")
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
func htmlToUTF8(label string, b []byte) (string, string) {
	if normCharset(label) != "" || utf8.Valid(b) {
		return charsetToUTF8(label, b)
	}
	enc, name, _ := htmlcharset.DetermineEncoding(b, "text/html")
	if enc == nil || name == "windows-1252" || name == "utf-8" {
		return undeclaredToUTF8(b), ""
	}
	return charsetToUTF8(name, b)
}

// quoteShort quotes a label for a problem message, cut to a sane length.
func quoteShort(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return `"` + strings.ToValidUTF8(s, "?") + `"`
}
