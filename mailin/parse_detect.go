package mailin

import (
	"bytes"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/saintfish/chardet"
)

// Reading text whose charset is undeclared or declared wrongly, as a
// careful reader does: first the charsets that the rest of the message
// declares (a mail written by one client uses one charset), then the text
// itself, and only then a guess.
//
// The text itself is judged by github.com/saintfish/chardet (a pure-Go
// port of ICU's detector) when there is enough of it; ICU's statistics
// are good on a sentence but not on a name or a one-word subject, so for
// short text two hand rules decide: Western 8-bit text has its non-ASCII
// bytes mostly alone between ASCII letters ("Fr\xf6sche"), while CJK text
// has them in pairs, and GB2312 text mostly uses the common-character and
// punctuation rows.

// declaredCharsets returns the charsets that raw declares anywhere:
// charset parameters (RFC 2045 5.1, also HTML meta charset) and RFC 2047
// encoded words, in order of first appearance, normalized, without
// duplicates and without US-ASCII and UTF-8 (which say nothing about 8-bit
// text in another charset). At most 8 are returned.
func declaredCharsets(raw []byte) []string {
	var out []string
	add := func(label string) {
		label = canonCharset(label)
		switch label {
		case "", "us-ascii", "ascii", "utf-8", "utf8", "unknown-8bit", "x-unknown-8bit", "default":
			return
		}
		for _, l := range out {
			if l == label {
				return
			}
		}
		if len(out) < 8 && knownCharset(label) {
			out = append(out, label)
		}
	}
	for i := 0; i < len(raw) && len(out) < 8; {
		j := bytes.IndexAny(raw[i:], "=cC")
		if j < 0 {
			break
		}
		i += j
		switch {
		case raw[i] == '=' && i+1 < len(raw) && raw[i+1] == '?':
			// RFC 2047 2: "=?" charset "?" encoding "?".
			k := i + 2
			for k < len(raw) && k-i < 42 && raw[k] != '?' && raw[k] > ' ' && raw[k] < 0x7f {
				k++
			}
			if k+2 < len(raw) && raw[k] == '?' && raw[k+2] == '?' && (raw[k+1]|0x20 == 'b' || raw[k+1]|0x20 == 'q') {
				add(string(raw[i+2 : k]))
			}
			i = k
		case raw[i] != '=' && hasPrefixFold(raw[i:], "charset="):
			k := i + len("charset=")
			for k < len(raw) && (raw[k] == '"' || raw[k] == '\'' || raw[k] == ' ') {
				k++
			}
			s := k
			for k < len(raw) && k-s < 40 && isLabelByte(raw[k]) {
				k++
			}
			add(string(raw[s:k]))
			i = k
		default:
			i++
		}
	}
	return out
}

// canonCharset is normCharset with the aliases of charsetAliases applied.
func canonCharset(label string) string {
	label = normCharset(label)
	if a, ok := charsetAliases[label]; ok {
		return a
	}
	return label
}

func isLabelByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-_.:+", c) >= 0
}

// knownCharset reports a label that charsetToUTF8 can decode.
func knownCharset(label string) bool {
	if isGBLabel(label) || isLatin1Label(label) {
		return true
	}
	_, err := lookupCharset(label)
	return err == nil
}

// isLatin1Label reports ISO-8859-1 and the labels read as windows-1252 for
// it (WHATWG Encoding 4.2 does the same: bytes 0x80-0x9F are the
// windows-1252 letters, never C1 controls, in real mail).
func isLatin1Label(label string) bool {
	switch label {
	case "iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "latin-1", "l1", "cp819", "ibm819",
		"iso-ir-100", "csisolatin1", "iso_8859-1:1987", "windows-1252", "cp1252", "x-cp1252", "ansi":
		return true
	}
	return false
}

// isMultibyteLabel reports the CJK charsets in which non-ASCII bytes come
// in pairs (or longer sequences).
func isMultibyteLabel(label string) bool {
	if isGBLabel(label) {
		return true
	}
	switch label {
	case "big5", "shift_jis", "shift-jis", "sjis", "x-sjis", "euc-jp", "euc-kr", "ks_c_5601-1987", "ksc5601", "gb18030":
		return true
	}
	return false
}

// isSingleByteLabel reports the charsets with one byte a character that
// decode 8-bit text: ISO 8859, Windows, KOI8, Mac and DOS code pages.
func isSingleByteLabel(label string) bool {
	if isLatin1Label(label) {
		return true
	}
	for _, p := range []string{"iso-8859-", "iso8859-", "windows-125", "cp125", "koi8", "mac", "ibm", "cp8"} {
		if strings.HasPrefix(label, p) {
			return true
		}
	}
	return false
}

// highByteStats counts the non-ASCII bytes of b and those that stand
// alone, between ASCII bytes (or the ends). A byte followed by one of
// "@[\\]^_`{|}~" does not count as alone: these are Big5 and Shift_JIS
// trail bytes ("許" is B3 5C) and never follow an accented letter.
func highByteStats(b []byte) (high, alone int) {
	for i, c := range b {
		if c < 0x80 {
			continue
		}
		high++
		if i+1 < len(b) && (b[i+1] == '@' || b[i+1] >= '[' && b[i+1] <= '`' || b[i+1] >= '{' && b[i+1] <= '~') {
			continue
		}
		if (i == 0 || b[i-1] < 0x80) && (i == len(b)-1 || b[i+1] < 0x80) {
			alone++
		}
	}
	return high, alone
}

// latinLike reports 8-bit text whose non-ASCII bytes mostly stand alone,
// as accented letters in Western European text do and CJK text never
// does.
func latinLike(b []byte) bool {
	high, alone := highByteStats(b)
	return high > 0 && alone*2 >= high
}

// gbLike reports text that decodes as GB18030 without a bad sequence, whose
// two-byte characters all have a trail byte of 0xA1 or more (GB2312 rows)
// and mostly come from the punctuation and common-character rows. minHigh
// is the fewest non-ASCII bytes accepted.
func gbLike(b []byte, minHigh int) bool {
	pairs, common, high := 0, 0, 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < 0x80 {
			continue
		}
		high++
		if i+1 >= len(b) || c < 0xA1 || c > 0xF7 || b[i+1] < 0xA1 || b[i+1] == 0xFF {
			return false
		}
		pairs++
		high++
		if c <= 0xA9 || (c >= 0xB0 && c <= 0xD7) {
			common++
		}
		i++
	}
	return high >= minHigh && pairs > 0 && common*2 >= pairs
}

// chardetNames maps the charsets chardet reports that are trusted here to
// charset labels: the CJK ones and the Cyrillic ones. Single-byte Western
// charsets are left out: chardet chooses among them by language
// statistics that short mail text does not carry, and windows-1252 serves
// them; its Greek, Hebrew and Arabic results mistake Cyrillic text too
// often.
var chardetNames = map[string]string{
	"GB-18030": "gb18030", "Big5": "big5", "Shift_JIS": "shift_jis", "EUC-JP": "euc-jp", "EUC-KR": "euc-kr",
	"KOI8-R": "koi8-r", "windows-1251": "windows-1251", "ISO-8859-5": "iso-8859-5",
}

// minDetectHigh is how many non-ASCII bytes text needs before chardet's
// statistics are trusted.
const minDetectHigh = 16

// maxDetectBytes is how much of a text chardet looks at.
const maxDetectBytes = 64 << 10

// textDetector is shared: chardet's Detector keeps no state between calls.
var textDetector = chardet.NewTextDetector()

// detectCharset names the charset of 8-bit text b that carries no
// declaration of its own; hints are the charsets the message declares
// elsewhere, best first. It returns "utf-8" for valid UTF-8 and
// "windows-1252" when nothing else fits (it decodes any byte).
func detectCharset(b []byte, hints []string) string {
	if bytes.IndexByte(b, 0x1b) >= 0 {
		// 7-bit ISO 2022 text (RFC 1468) shows its escape sequences.
		for _, h := range hints {
			if strings.HasPrefix(h, "iso-2022-") {
				return h
			}
		}
		if bytes.Contains(b, []byte("\x1b$B")) || bytes.Contains(b, []byte("\x1b$@")) {
			return "iso-2022-jp"
		}
	}
	if utf8.Valid(b) {
		return "utf-8"
	}
	// Hints in order; a single-byte charset (which decodes anything) gives
	// way to a later multibyte one only when the text has CJK structure
	// and decodes in it.
	latin := latinLike(b)
	fits := func(h string) bool { return !latin && isMultibyteLabel(h) && decodesCleanly(h, b) }
	for i, h := range hints {
		switch {
		case fits(h):
			return h
		case isSingleByteLabel(h) && (latin || !slices.ContainsFunc(hints[i+1:], fits)):
			return h
		}
	}
	if l := detectByText(b, 2); l != "" {
		return l
	}
	return "windows-1252"
}

// detectByText judges 8-bit text by itself: chardet when there is enough
// text and it is sure, else the GB2312 rule for short text. minHigh is
// the fewest non-ASCII bytes the short rule accepts. "" means no
// conclusion.
func detectByText(b []byte, minHigh int) string {
	if latinLike(b) {
		return ""
	}
	high, _ := highByteStats(b)
	if high >= minDetectHigh {
		// The best result among the trusted charsets; ICU's single-byte
		// statistics may rank an untrusted one (ISO-8859-8 for Russian
		// KOI8-R text) first.
		sample := b
		if len(sample) > maxDetectBytes {
			sample = sample[:maxDetectBytes]
		}
		if all, err := textDetector.DetectAll(sample); err == nil {
			for i, r := range all {
				l, ok := chardetNames[r.Charset]
				if !ok {
					continue
				}
				tied := i+1 < len(all) && all[i+1].Confidence == r.Confidence
				need := 50
				if !isMultibyteLabel(l) {
					need = 40
				}
				if !tied && r.Confidence >= need && (!isMultibyteLabel(l) || decodesCleanly(l, b)) {
					return l
				}
				break
			}
		}
	}
	if gbLike(b, minHigh) {
		if _, ok := cleanGB18030(b); ok {
			return "gb18030"
		}
	}
	return ""
}

// gbTrailsPlausible reports GB18030 text in which at most a quarter of the
// two-byte characters have an ASCII trail byte.
func gbTrailsPlausible(b []byte) bool {
	pairs, ascii := 0, 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < 0x81 || c == 0xFF || i+1 >= len(b) {
			continue
		}
		t := b[i+1]
		if t >= 0x30 && t <= 0x39 && i+3 < len(b) {
			i += 3 // four-byte sequence
			continue
		}
		pairs++
		if t < 0x80 {
			ascii++
		}
		i++
	}
	return ascii*4 <= pairs
}

// decodesCleanly reports whether b decodes in the multibyte charset label
// without a bad sequence. For the GB charsets the two-byte characters must
// also mostly have a trail byte of 0x80 or more: GBK allows ASCII letters
// as trail bytes, so Latin-1 text such as "K\xf6ln" decodes "cleanly" into
// rare characters, while real Chinese text uses them seldom.
func decodesCleanly(label string, b []byte) bool {
	if isGBLabel(label) {
		_, ok := cleanGB18030(b)
		return ok && gbTrailsPlausible(b)
	}
	enc, err := lookupCharset(label)
	if err != nil {
		return false
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil || !utf8.Valid(out) {
		return false
	}
	return bytes.Count(out, []byte("\uFFFD")) == bytes.Count(b, []byte("\uFFFD"))
}
