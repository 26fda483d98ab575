package replytext

import (
	"strings"
	"unicode/utf8"
)

// Strip returns the new text of a plain-text reply: what the person wrote,
// without the quoted history their mail client appended.
//
// Lines quoted with ">" are dropped wherever they are, so the person's text
// between and below quoted lines (interleaved or bottom-posted replies) is
// kept. Attribution lines that introduce quoted lines are dropped with them,
// in the word orders of the clients' languages ("On … wrote:", "Am …
// schrieb …:", "Le … a écrit :", "… 写道：", "…님이 작성:", and Gmail's
// date-first "2014-03-20 8:48 GMT+01:00 Name <addr>:"), also when wrapped
// over two or three lines or when they share a line with the person's text
// ("Thanks. On … wrote:" keeps "Thanks."). GroupWise's ">>> Name <addr>
// date >>>" ends the new text.
//
// These end the new text, and they and everything after them are dropped: a
// separator line ("-----Original Message-----", "-------- Oprindelig besked
// --------", "---- On … wrote ----", "------------------ 原始邮件
// ------------------", "Begin forwarded message:"), a header block (a "From:"
// or "Date:" line followed by the other header lines, in the languages of
// Outlook and the others: "De :/Envoyé :/À :/Objet :", "Von:/Gesendet:",
// "差出人:/送信日時:", "发件人:/发送时间:"), an underscore rule followed by a
// header block, and an attribution naming an address, or a date and a time,
// followed by unquoted text (Yahoo and some mobile clients quote without ">"
// marks). A mobile signature ("Sent from my iPhone", "Von meinem iPhone
// gesendet", "发自我的iPhone", "Get Outlook for iOS") that ends its paragraph
// ends the new text after itself. A "From:" line without the rest of a header block, and a sentence
// that merely ends in "wrote:" ("On Monday the vendor wrote:"), are the
// person's text: an attribution needs a date- or time-like part and a name
// or address.
//
// A signature the person typed above the quote, including its "-- "
// separator, is kept. Where lines were removed between kept lines, one blank
// line stands in for them. CRLF and lone CR become LF; invalid UTF-8 becomes
// U+FFFD; leading and trailing blank lines are trimmed; kept lines are
// otherwise returned unchanged.
//
// Strip(Strip(x)) == Strip(x), and the result is never longer than text
// with its invalid UTF-8 replaced.
func Strip(text string) string {
	text = strings.ToValidUTF8(normalizeNewlines(text), "\uFFFD")
	lines := splitInline(strings.Split(text, "\n"))
	s := &stripper{lines: lines, fate: make([]int8, len(lines))}
	keep := make([]bool, len(lines))
	end := len(lines) // lines from end on are history
scan:
	for i := 0; i < len(lines); i++ {
		if isGroupWise(lines[i]) {
			end = i
			break
		}
		if isQuoted(lines[i]) {
			continue
		}
		if startsHistory(lines, i) {
			end = i
			break
		}
		if isMobileSignature(lines[i]) && (i+1 == len(lines) || isBlank(lines[i+1]) ||
			isQuoted(lines[i+1]) || startsHistory(lines, i+1)) {
			keep[i] = true
			end = i + 1
			break
		}
		if last, ok := attribution(lines, i); ok {
			switch s.fateOf(i, last) {
			case fateDrop:
				i = last
				continue scan
			case fateCut:
				end = i
				break scan
			}
		}
		keep[i] = true
	}
	return joinKept(lines[:end], keep[:end])
}

// joinKept joins the kept lines. A run of removed lines, together with the
// blank lines around it, becomes a single blank line between kept text.
func joinKept(lines []string, keep []bool) string {
	out := make([]string, 0, len(lines))
	gap := false
	for i, line := range lines {
		if !keep[i] {
			gap = true
			continue
		}
		if isBlank(line) {
			if !gap {
				out = append(out, line)
			}
			continue
		}
		if gap {
			for len(out) > 0 && isBlank(out[len(out)-1]) {
				out = out[:len(out)-1]
			}
			if len(out) > 0 {
				out = append(out, "")
			}
			gap = false
		}
		out = append(out, line)
	}
	first := 0
	for first < len(out) && isBlank(out[first]) {
		first++
	}
	last := len(out)
	for last > first && isBlank(out[last-1]) {
		last--
	}
	return strings.Join(out[first:last], "\n")
}

func normalizeNewlines(s string) string {
	if !strings.Contains(s, "\r") {
		return s
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.ReplaceAll(s, "\r", "\n")
}

func isBlank(line string) bool {
	return norm(line) == ""
}

// norm trims a line for matching: surrounding white space including
// no-break and ideographic spaces, with "&nbsp;" that some clients (QQ Mail)
// leave in their plain-text parts read as a space.
func norm(line string) string {
	if strings.Contains(line, "&nbsp;") {
		line = strings.ReplaceAll(line, "&nbsp;", " ")
	}
	line = strings.TrimFunc(line, isSpace)
	if strings.Contains(line, "\u00a0") || strings.Contains(line, "\u3000") ||
		strings.Contains(line, "\u202f") {
		line = strings.Map(func(r rune) rune {
			if r == '\u00a0' || r == '\u3000' || r == '\u202f' {
				return ' '
			}
			return r
		}, line)
	}
	return line
}

func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\v', '\f', '\u00a0', '\u3000', '\ufeff', '\u200b', '\u202f':
		return true
	}
	return false
}

// isQuoted reports whether a line is quoted with ">" (RFC 3676 4.5 quote
// marks; indented ones too, as some clients send them).
func isQuoted(line string) bool {
	t := strings.TrimLeft(line, " \t")
	return strings.HasPrefix(t, ">")
}

// isSeparator reports whether l (normalized) is a separator line: a known
// label between runs of dashes ("-----Original Message-----",
// "-------- Oprindelig besked --------", "------------------ 原始邮件
// ------------------"), or an attribution between them ("---- On Tue, 03 Mar
// 2026 10:00:00 +0100 Alice <alice@acme.test> wrote ----" from Zoho Mail,
// "-----Alice Wonderland/ACME wrote: -----" from Lotus Notes).
func isSeparator(l string) bool {
	if l == "" || !strings.ContainsRune("-=_*", rune(l[0])) {
		return false
	}
	const marks = "-=_*"
	inner := strings.TrimLeft(l, marks)
	if len(l)-len(inner) < 2 {
		return false
	}
	rest := strings.TrimRight(inner, marks)
	if len(inner)-len(rest) < 2 {
		return false
	}
	label := strings.TrimFunc(rest, func(r rune) bool { return isSpace(r) || r == ':' || r == '：' })
	if label == "" || len(label) > maxAttrLn {
		return false
	}
	lower := strings.ToLower(label)
	if isLabel(lower) {
		return true
	}
	// "---- On … wrote ----": an attribution without its colon.
	return hasVerb(lower) && (endsWithVerb(lower) || hasEmail(lower) || hasDate(lower))
}

// isGroupWise reports whether line is the attribution GroupWise puts above
// the unquoted history: ">>> Name <addr> 03/03/2026 10:00 >>>".
func isGroupWise(line string) bool {
	l := norm(line)
	if !strings.HasPrefix(l, ">>> ") || !strings.HasSuffix(l, " >>>") || len(l) > maxAttrLn {
		return false
	}
	return hasDate(l) || hasTime(l)
}

// isForwardLine reports whether l (normalized) is a forwarded-message header
// such as Apple Mail's "Begin forwarded message:".
func isForwardLine(l string) bool {
	if !endsWithColon(l) || len(l) > 120 {
		return false
	}
	l = strings.TrimRightFunc(trimColon(l), isSpace)
	l = strings.ToLower(l)
	for _, w := range forwardLines {
		if l == w {
			return true
		}
	}
	return false
}

// isMobileSignature reports whether line is the signature a mail app
// appends ("Sent from my iPhone"), alone on its line. It ends the text only
// where the paragraph ends, so "Sent from my laptop, see below:" followed by
// the person's text is not taken for one.
func isMobileSignature(line string) bool {
	l := norm(line)
	if l == "" || len(l) > 120 {
		return false
	}
	l = strings.ToLower(l)
	for _, w := range mobileSignatures {
		if strings.HasPrefix(l, w) {
			return true
		}
	}
	return false
}

// isUnderscoreRule reports whether l is the rule Outlook puts above its
// header block.
func isUnderscoreRule(l string) bool {
	return len(l) >= 10 && strings.Trim(l, "_") == ""
}

// isSeparatorLabel reports whether l (normalized) is one of
// separatorLabels on its own, without dashes.
func isSeparatorLabel(l string) bool {
	// Every line of a mail comes here: most are longer than any label,
	// and are not lowered and looked up. Lowering keeps the count of
	// runes, and a rune is at most 4 bytes.
	l = strings.TrimSpace(l)
	if len(l) > utf8.UTFMax*labelRunes {
		return false
	}
	return isLabel(strings.ToLower(l))
}

// labelSet holds separatorLabels, and labelRunes is the length in runes
// of the longest.
var labelSet, labelRunes = func() (map[string]bool, int) {
	set := map[string]bool{}
	n := 0
	for _, w := range separatorLabels {
		set[w] = true
		n = max(n, utf8.RuneCountInString(w))
	}
	return set, n
}()

// isLabel reports whether lower (lowered and trimmed) is one of
// separatorLabels.
func isLabel(lower string) bool { return labelSet[lower] }

// startsHistory reports whether line i starts quoted history that has no
// quote marks: a separator line, an Outlook rule followed by a header block,
// or a header block.
func startsHistory(lines []string, i int) bool {
	l := norm(lines[i])
	if l == "" {
		return false
	}
	if isSeparator(l) || isForwardLine(l) {
		return true
	}
	if isUnderscoreRule(l) || isSeparatorLabel(l) {
		// The rule, or a bare separator label ("  Original Message" from
		// BlackBerry), counts only above a header block.
		j := i + 1
		for j < len(lines) && isBlank(lines[j]) {
			j++
		}
		return j < len(lines) && headerBlock(lines, j)
	}
	return headerBlock(lines, i) || notesHeader(lines, i)
}

// notesHeader reports whether line i starts the header Lotus Notes writes
// above the quoted message in plain text: the sender, the date and time on
// the next line, then within a few lines the labels "To" and "Subject"
// alone on their lines, their values below them.
func notesHeader(lines []string, i int) bool {
	if i+1 >= len(lines) || isBlank(lines[i]) || len(lines[i]) > 200 {
		return false
	}
	if d := norm(lines[i+1]); len(d) > 60 || !hasDate(d) || !hasTime(d) {
		return false
	}
	var to, subject bool
	for j := i + 2; j < len(lines) && j <= i+10; j++ {
		l := strings.ToLower(strings.TrimSuffix(norm(lines[j]), ":"))
		switch headerKeys[l] {
		case keyTo:
			to = true
		case keySubject:
			subject = true
		}
		if to && subject {
			return true
		}
	}
	return false
}

// headerLine splits a "Key: value" header line into the kind of its key and
// its value, allowing the full-width colon, a space before the colon
// (French "De :"), and the "*From:*" bold that text renderings of HTML add.
func headerLine(line string) (key int, value string) {
	l := strings.TrimLeft(norm(line), "*")
	head := l
	if len(head) > 48 {
		head = head[:48]
	}
	idx := strings.IndexByte(head, ':')
	width := 1
	if w := strings.Index(head, "："); w >= 0 && (idx < 0 || w < idx) {
		idx, width = w, len("：")
	}
	if idx <= 0 || idx > 40 {
		return keyNone, ""
	}
	k := strings.TrimFunc(l[:idx], func(r rune) bool { return isSpace(r) || r == '*' })
	kind := headerKeys[strings.ToLower(k)]
	if kind == keyNone {
		return keyNone, ""
	}
	return kind, strings.TrimFunc(l[idx+width:], func(r rune) bool { return isSpace(r) || r == '*' })
}

// headerKey returns the kind of "Key: value" header line l is.
func headerKey(line string) int {
	k, _ := headerLine(line)
	return k
}

// headerBlock reports whether line i starts a header block: a "From:" or
// "Date:" line followed, within the next few contiguous lines, by the other
// of the two and by a "Subject:" or "To:" line. The date line must name a
// date (hold a digit). Wrapped lines of a long "To:" are allowed in between.
// A "From:" line on its own, or in a sentence, does not start one.
func headerBlock(lines []string, i int) bool {
	k, v := headerLine(lines[i])
	if k != keyFrom && k != keyDate {
		return false
	}
	var from, date, rest bool
	seen := func(k int, v string) {
		switch k {
		case keyFrom:
			from = true
		case keyDate:
			date = date || strings.ContainsAny(v, "0123456789")
		case keySubject, keyTo:
			rest = true
		}
	}
	seen(k, v)
	other := 0 // lines that are not header lines
	for j := i + 1; j < len(lines) && j <= i+10; j++ {
		if isBlank(lines[j]) || isQuoted(lines[j]) {
			break
		}
		k, v := headerLine(lines[j])
		if k == keyNone {
			if other++; other > 2 {
				break
			}
			continue
		}
		seen(k, v)
		if from && date && rest {
			return true
		}
	}
	return false
}

func endsWithColon(l string) bool {
	return strings.HasSuffix(l, ":") || strings.HasSuffix(l, "：")
}

func trimColon(l string) string {
	return strings.TrimSuffix(strings.TrimSuffix(l, ":"), "：")
}

// maxAttrLn bounds the length of an attribution, in bytes.
const maxAttrLn = 400

// splitInline splits a line where an attribution follows the person's text
// on the same line ("Thanks, fixed. On Tue, 3 Mar 2026 … wrote:"), so that
// the text is kept and the attribution handled on its own line. Only
// attributions that name an address, or a date and a time, are split off.
func splitInline(lines []string) []string {
	var out []string
	for i, line := range lines {
		if k := inlineAttribution(lines, i); k > 0 {
			if out == nil {
				out = append(make([]string, 0, len(lines)+1), lines[:i]...)
			}
			out = append(out, strings.TrimRightFunc(line[:k], isSpace), line[k:])
			continue
		}
		if out != nil {
			out = append(out, line)
		}
	}
	if out == nil {
		return lines
	}
	return out
}

// inlineAttribution returns the byte offset in lines[i] at which an
// attribution starts after the person's text, or 0.
func inlineAttribution(lines []string, i int) int {
	line := lines[i]
	if len(line) > maxAttrLn || isQuoted(line) || !strings.ContainsAny(line, ".!?。！？") {
		return 0
	}
	for _, w := range inlineStarts {
		for off := 0; off < len(line); {
			k := strings.Index(line[off:], w)
			if k < 0 {
				break
			}
			k += off
			off = k + len(w)
			if k == 0 {
				continue
			}
			before := strings.TrimRightFunc(line[:k], isSpace)
			if before == "" || before == line[:k] && w[0] < utf8.RuneSelf {
				continue // not at a word start
			}
			r, _ := utf8.DecodeLastRuneInString(before)
			if !strings.ContainsRune(".!?。！？", r) {
				continue
			}
			rest := append([]string{line[k:]}, lines[i+1:min(len(lines), i+3)]...)
			if last, ok := attribution(rest, 0); ok &&
				specific(strings.Join(rest[:last+1], " ")) {
				return k
			}
		}
	}
	return 0
}
