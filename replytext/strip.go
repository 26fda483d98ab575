package replytext

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Strip returns the new text of a plain-text reply: what the person wrote,
// without the quoted history their mail client appended.
//
// Lines quoted with ">" are dropped wherever they are, so the person's text
// between and below quoted lines (interleaved or bottom-posted replies) is
// kept. Attribution lines ("On … wrote:", "… 写道：") that introduce quoted
// lines are dropped with them. A separator line ("-----Original Message-----",
// "------------------ 原始邮件 ------------------", "---- 回复的原邮件 ----",
// a forwarded-message line), an Outlook header block (a "From:" line followed
// within a few lines by "Sent:"/"Date:" and "Subject:" lines, or their
// Chinese forms), or an attribution naming a date and an address or time
// followed by unquoted text (Yahoo) ends the new text: it and everything
// after it are dropped. A "From:" line without the rest of a header block,
// and a sentence that merely ends in "wrote:", are the person's text.
//
// A signature the person typed above the quote, including its "-- "
// separator, is kept. Where lines were removed between kept lines, one blank
// line stands in for them. CRLF and lone CR become LF; leading and trailing
// blank lines are trimmed; kept lines are otherwise returned unchanged.
//
// The result is never longer than text, and Strip(Strip(x)) == Strip(x).
func Strip(text string) string {
	lines := strings.Split(normalizeNewlines(text), "\n")
	s := &stripper{lines: lines, fate: make([]int8, len(lines))}
	keep := make([]bool, len(lines))
	end := len(lines) // lines from end on are history
scan:
	for i := 0; i < len(lines); i++ {
		if isQuoted(lines[i]) {
			continue
		}
		if startsHistory(lines, i) {
			end = i
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
	if strings.Contains(line, "\u00a0") || strings.Contains(line, "\u3000") {
		line = strings.Map(func(r rune) rune {
			if r == '\u00a0' || r == '\u3000' {
				return ' '
			}
			return r
		}, line)
	}
	return line
}

func isSpace(r rune) bool {
	switch r {
	case ' ', '\t', '\n', '\r', '\v', '\f', '\u00a0', '\u3000', '\ufeff', '\u200b':
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

// separatorRe matches the lines clients put between the new text and the
// quoted message: "-----Original Message-----" (Outlook),
// "-------- Original Message --------" and "-------- 原始信息 --------"
// (Thunderbird), "------------------ 原始邮件 ------------------" and
// "------------------ Original ------------------" (Foxmail, QQ Mail, Tencent
// Exmail), "---- 回复的原邮件 ----" and "---- Replied Message ----" (NetEase),
// and the forwarded-message lines of the same clients and of Gmail.
var separatorRe = regexp.MustCompile(`(?i)^[-=_*]{2,}\s*(` +
	`original message|original e-?mail|original|replied message|reply message|` +
	`forwarded message|forwarded e-?mail|forwarded|forward message|` +
	`原始邮件|原始郵件|原始信息|原始訊息|原邮件|原郵件|回复的原邮件|转发的原邮件|` +
	`转发邮件信息|转发邮件|转发的邮件|轉寄郵件|转发信息|` +
	`message d'origine|message transféré|ursprüngliche nachricht|weitergeleitete nachricht|` +
	`mensaje original|mensaje reenviado|messaggio originale|messaggio inoltrato` +
	`)\s*[:：]?\s*[-=_*]{2,}$`)

// forwardRe matches the forwarded-message headers that are not dashed lines
// (Apple Mail).
var forwardRe = regexp.MustCompile(`(?i)^(begin forwarded message|下面是被转发的邮件|开始转发的邮件|以下是转发的邮件)\s*[:：]$`)

// isUnderscoreRule reports whether l is the rule Outlook puts above its
// header block.
func isUnderscoreRule(l string) bool {
	return len(l) >= 10 && strings.Trim(l, "_") == ""
}

// startsHistory reports whether line i starts quoted history that has no
// quote marks: a separator line, an Outlook rule followed by a header block,
// or a header block.
func startsHistory(lines []string, i int) bool {
	l := norm(lines[i])
	if l == "" {
		return false
	}
	if strings.ContainsRune("-=_*", rune(l[0])) && separatorRe.MatchString(l) {
		return true
	}
	if endsWithColon(l) && forwardRe.MatchString(l) {
		return true
	}
	if isUnderscoreRule(l) {
		j := i + 1
		for j < len(lines) && isBlank(lines[j]) {
			j++
		}
		return j < len(lines) && headerBlock(lines, j)
	}
	return headerBlock(lines, i)
}

// Header keys of the blocks that Outlook, Foxmail, QQ Mail and others print
// above the quoted message, in the languages our staff's clients use.
const (
	keyNone = iota
	keyFrom
	keyDate
	keyTo
	keyCc
	keySubject
)

var headerKeys = map[string]int{
	"from": keyFrom, "发件人": keyFrom, "發件人": keyFrom, "寄件者": keyFrom, "寄件人": keyFrom,
	"发信人": keyFrom, "von": keyFrom, "de": keyFrom, "van": keyFrom, "da": keyFrom, "差出人": keyFrom,

	"sent": keyDate, "date": keyDate, "发送时间": keyDate, "發送時間": keyDate, "发送日期": keyDate,
	"发件时间": keyDate, "日期": keyDate, "时间": keyDate, "時間": keyDate, "寄件日期": keyDate,
	"傳送時間": keyDate, "gesendet": keyDate, "datum": keyDate, "envoyé": keyDate,
	"enviado": keyDate, "fecha": keyDate, "data": keyDate, "inviato": keyDate,
	"送信日時": keyDate, "日時": keyDate,

	"to": keyTo, "收件人": keyTo, "收件者": keyTo, "an": keyTo, "à": keyTo, "para": keyTo,
	"a": keyTo, "aan": keyTo, "宛先": keyTo,

	"cc": keyCc, "抄送": keyCc, "抄送人": keyCc, "副本": keyCc, "kopie": keyCc,

	"subject": keySubject, "主题": keySubject, "主題": keySubject, "主旨": keySubject,
	"标题": keySubject, "標題": keySubject, "betreff": keySubject, "objet": keySubject,
	"asunto": keySubject, "oggetto": keySubject, "onderwerp": keySubject, "件名": keySubject,
}

// headerKey returns the kind of "Key: value" header line l is, allowing the
// full-width colon and the "*From:*" bold that text renderings of HTML add.
func headerKey(line string) int {
	l := strings.TrimLeft(norm(line), "*")
	if len(l) > 48 {
		l = l[:48]
	}
	idx := strings.IndexByte(l, ':')
	if w := strings.Index(l, "："); w >= 0 && (idx < 0 || w < idx) {
		idx = w
	}
	if idx <= 0 || idx > 40 {
		return keyNone
	}
	key := strings.TrimFunc(l[:idx], func(r rune) bool { return isSpace(r) || r == '*' })
	return headerKeys[strings.ToLower(key)]
}

// headerBlock reports whether line i starts a header block: a "From:" line
// followed, within the next few contiguous lines, by a date line ("Sent:",
// "Date:", "发送时间:") and a "Subject:" line. A "From:" line on its own, or in
// a sentence, does not start one.
func headerBlock(lines []string, i int) bool {
	if headerKey(lines[i]) != keyFrom {
		return false
	}
	var date, subject bool
	for j := i + 1; j < len(lines) && j <= i+8; j++ {
		if isBlank(lines[j]) || isQuoted(lines[j]) {
			break
		}
		switch headerKey(lines[j]) {
		case keyDate:
			date = true
		case keySubject:
			subject = true
		}
		if date && subject {
			return true
		}
	}
	return false
}

// attrEndWords end an attribution line before its colon: "wrote:", "写道：".
var attrEndWords = []string{"wrote", "writes", "a écrit", "schrieb", "escribió", "ha scritto",
	"schreef", "skrev", "写道", "寫道", "来信", "來信", "書きました"}

func endsWithColon(l string) bool {
	return strings.HasSuffix(l, ":") || strings.HasSuffix(l, "：")
}

// attrEnd reports whether l ends like an attribution line.
func attrEnd(l string) bool {
	if !endsWithColon(l) {
		return false
	}
	l = strings.TrimSuffix(strings.TrimSuffix(l, ":"), "：")
	l = strings.TrimRightFunc(l, isSpace)
	if len(l) > 32 {
		l = l[len(l)-32:]
	}
	l = strings.ToLower(l)
	for _, w := range attrEndWords {
		if !strings.HasSuffix(l, w) {
			continue
		}
		before := l[:len(l)-len(w)]
		if w[0] < utf8.RuneSelf && before != "" {
			// An English word must start a word: "wrote", not "rewrote".
			r, _ := utf8.DecodeLastRuneInString(before)
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				continue
			}
		}
		return true
	}
	return false
}

// attrStartWords start an attribution line: "On Mon, …", "Am 23.11.2026 …",
// "在 2026/11/23 …".
var attrStartWords = []string{"on", "am", "le", "el", "il", "op", "em", "den", "在", "于", "於"}

// attrWordStart reports whether l starts with one of attrStartWords.
func attrWordStart(l string) bool {
	for _, w := range attrStartWords {
		if len(l) <= len(w) || !strings.EqualFold(l[:len(w)], w) {
			continue
		}
		c := l[len(w)]
		if c == ' ' || c == '\t' || (w[0] >= utf8.RuneSelf && c >= '0' && c <= '9') {
			return true
		}
	}
	return false
}

// attrStart reports whether l starts like an attribution line: with one of
// attrStartWords or with a date ("2026年11月23日 …", "23.11.2026 …").
func attrStart(l string) bool {
	return attrWordStart(l) || (l != "" && l[0] >= '0' && l[0] <= '9')
}

func hasEmail(s string) bool {
	return strings.Contains(s, "@") && emailRe.MatchString(s)
}

var (
	emailRe = regexp.MustCompile(`[^\s<>"]@[^\s<>"]+\.[^\s<>"]`)
	timeRe  = regexp.MustCompile(`\d{1,2}[:：]\d{2}`)
	yearRe  = regexp.MustCompile(`(^|\D)(19|20)\d\d(\D|$)`)
)

// maxAttrLn bounds the length of an attribution, in bytes.
const maxAttrLn = 400

// attribution reports whether an attribution starts at line i and, if so,
// the index of its last line. Gmail wraps long attributions, so one may span
// up to three lines.
func attribution(lines []string, i int) (last int, ok bool) {
	first := norm(lines[i])
	if first == "" || isQuoted(lines[i]) {
		return 0, false
	}
	if i+1 < len(lines) && isQuoted(lines[i+1]) && leadsQuote(first) {
		return i, true
	}
	joined := first
	for j := i; j < len(lines) && j <= i+2; j++ {
		l := norm(lines[j])
		if l == "" || isQuoted(lines[j]) {
			return 0, false
		}
		if j > i {
			if attrWordStart(l) || (attrEnd(l) && attrStart(l)) {
				return 0, false // a new attribution starts there
			}
			joined += " " + l
		}
		if len(joined) > maxAttrLn {
			return 0, false
		}
		if !attrEnd(l) {
			continue
		}
		if attrStart(first) && strings.ContainsAny(joined, "0123456789") {
			return j, true
		}
		// "Alice <alice@acme.test> wrote:" with no date: only when
		// quoted lines follow, which fateOf checks.
		if j == i && utf8.RuneCountInString(first) <= 200 {
			return j, true
		}
		return 0, false
	}
	return 0, false
}

// leadsQuote reports whether l reads like a custom attribution such as
// "* Alice <alice@acme.test> [2026-11-23 10:00 +0800]:": it ends with a
// colon and names an address, or a year and a time. It counts only directly
// above a quoted line.
func leadsQuote(l string) bool {
	if !endsWithColon(l) || len(l) > maxAttrLn {
		return false
	}
	return hasEmail(l) || (yearRe.MatchString(l) && timeRe.MatchString(l))
}

const (
	fateUnknown int8 = iota
	fateKeep         // not an attribution after all: the person's text
	fateDrop         // drop the attribution lines; what follows is removed too
	fateCut          // the attribution and everything after it are history
)

// stripper holds the lines of one Strip call and the fates decided so far
// for the attributions among them, keyed by their first line.
type stripper struct {
	lines []string
	fate  []int8
}

// fateOf decides what to do with the attribution on lines first..last. It is
// dropped when what follows it is removed anyway: quoted lines, a separator,
// or another attribution that is removed. An attribution that is specific
// (it starts like "On …" or with a date, and names an address or a time) is
// also dropped when nothing follows it (an HTML quote was cut below it), and
// ends the new text when unquoted text follows it, as Yahoo and some mobile
// clients quote without ">" marks. Anything else is the person's own text.
//
// Attributions can follow each other (a forwarded chain); fateOf walks the
// chain once and records the fate of each link.
func (s *stripper) fateOf(first, last int) int8 {
	if f := s.fate[first]; f != fateUnknown {
		return f
	}
	type span struct{ first, last int }
	const (
		followText = iota
		followRemoved
		followEnd
	)
	chain := []span{{first, last}}
	follow := followText
	for {
		j := chain[len(chain)-1].last + 1
		for j < len(s.lines) && isBlank(s.lines[j]) {
			j++
		}
		if j == len(s.lines) {
			follow = followEnd
			break
		}
		if isQuoted(s.lines[j]) || startsHistory(s.lines, j) {
			follow = followRemoved
			break
		}
		if f := s.fate[j]; f != fateUnknown {
			if f != fateKeep {
				follow = followRemoved
			}
			break
		}
		l, ok := attribution(s.lines, j)
		if !ok {
			break
		}
		chain = append(chain, span{j, l})
	}
	for k := len(chain) - 1; k >= 0; k-- {
		c := chain[k]
		joined := strings.Join(s.lines[c.first:c.last+1], " ")
		specific := attrStart(norm(s.lines[c.first])) && (hasEmail(joined) || timeRe.MatchString(joined))
		f := fateKeep
		switch {
		case follow == followRemoved:
			f = fateDrop
		case follow == followEnd && specific:
			f = fateDrop
		case follow == followText && specific:
			f = fateCut
		}
		s.fate[c.first] = f
		follow = followRemoved
		if f == fateKeep {
			follow = followText
		}
	}
	return s.fate[first]
}
