package replytext

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

var (
	emailRe = regexp.MustCompile(`[^\s<>"(\[]@[^\s<>"()\]]+\.[^\s<>"()\]]`)
	// bracketEmailRe matches an address in the brackets Gmail and Apple
	// Mail put it in, at the end of a verb-less attribution: "Name
	// <addr>:", "(addr)", "[mailto:addr]", and what follows it there.
	bracketEmailRe = regexp.MustCompile(`[<(\[](mailto:)?[^\s<>"()\[\]]+@[^\s<>"()\[\]]+\.[^\s<>"()\[\]]+[>)\]]+([^<>()\[\]@]{0,12})$`)
	bareEmailEndRe = regexp.MustCompile(`[\s,"]\S+@[^\s<>"()\[\]]+\.[a-zA-Z]{2,}$`)
	timeRe         = regexp.MustCompile(`(^|[^\d:])\d{1,2}[:：]\d{2}([^\d]|$)|(kl\.?|klo\.?|um|à|alle|v|o|в|at)\s?\d{1,2}[.h]\d{2}(\D|$)|\d{1,2}h\d{2}|(오전|오후|午前|午後|上午|下午)\s?\d{1,2}`)
	dateRe         = regexp.MustCompile(`(^|\D)(19|20)\d\d(\D|$)|(^|\D)\d{1,2}[./-]\s?\d{1,2}[./-]\s?\d{2,4}(\D|$)|\d\s*[年月日년월일]`)
)

func hasEmail(s string) bool {
	return strings.Contains(s, "@") && emailRe.MatchString(s)
}

func hasTime(s string) bool { return timeRe.MatchString(s) }

func hasDate(s string) bool { return dateRe.MatchString(s) }

// specific reports whether an attribution names enough to be one beyond
// doubt: an address, or both a date and a time.
func specific(s string) bool {
	return hasEmail(s) || (hasDate(s) && hasTime(s))
}

// isWordRune reports whether r continues a word of a script that separates
// its words with spaces.
func isWordRune(r rune) bool {
	return (unicode.IsLetter(r) || unicode.IsDigit(r)) && !isCJK(r)
}

func isCJK(r rune) bool {
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
}

// verbAt reports whether the verb w occurs in lower at byte offset k as a
// word of its own (CJK verbs need no word boundary).
func verbAt(lower, w string, k int) bool {
	if r, _ := utf8.DecodeRuneInString(w); isCJK(r) {
		return true
	}
	if r, _ := utf8.DecodeLastRuneInString(lower[:k]); k > 0 && isWordRune(r) {
		return false
	}
	if r, _ := utf8.DecodeRuneInString(lower[k+len(w):]); k+len(w) < len(lower) && isWordRune(r) {
		return false
	}
	return true
}

// hasVerb reports whether lower holds an attribution verb as a word.
func hasVerb(lower string) bool {
	for _, w := range attrVerbs {
		for off := 0; off < len(lower); {
			k := strings.Index(lower[off:], w)
			if k < 0 {
				break
			}
			if verbAt(lower, w, off+k) {
				return true
			}
			off += k + len(w)
		}
	}
	return false
}

// endsWithVerb reports whether lower ends with an attribution verb.
func endsWithVerb(lower string) bool {
	lower = strings.TrimRightFunc(lower, isSpace)
	for _, w := range attrVerbs {
		if strings.HasSuffix(lower, w) && verbAt(lower, w, len(lower)-len(w)) {
			return true
		}
	}
	return false
}

// attrKind tells how sure an attribution is.
const (
	attrNone  = iota
	attrWeak  // "Alice wrote:": counts only above quoted lines
	attrDated // a verb and a date or time
	attrAddr  // a date or time and an address, with no verb
)

// attrText reports whether s, one attribution's lines joined and
// normalized, reads as an attribution:
//
//   - a verb and a date or time: "On 3/3/26 10:00 AM, Alice wrote:", "Am
//     03.03.2026 um 10:00 schrieb Max <max@example.de>:", "Le 3 mars 2026 à
//     10:00, Jean a écrit :", "2026년 3월 3일 (화) 오전 10:00, Kim
//     <kim@example.kr>님이 작성:", "Alice/ACME wrote on 03/03/2026 10:00:";
//   - a date or time and then an address in brackets at the end, with no
//     verb: Gmail's "2014-03-20 8:48 GMT+01:00 Name <addr>:", its Japanese
//     and Russian forms, Apple Mail's "…<addr>のメール:";
//   - a short line ending in a verb, "Alice wrote:", or Horde's "Quoting
//     Alice <alice@example.com>:" (weak).
func attrText(s string) int {
	if !endsWithColon(s) || len(s) > maxAttrLn {
		return attrNone
	}
	body := strings.TrimRightFunc(trimColon(s), isSpace)
	lower := strings.ToLower(body)
	dated := hasDate(lower) || hasTime(lower)
	if hasVerb(lower) {
		if dated {
			return attrDated
		}
		if endsWithVerb(lower) && utf8.RuneCountInString(body) <= 200 {
			return attrWeak
		}
		return attrNone
	}
	for _, w := range quotingWords {
		if strings.HasPrefix(lower, w) && hasEmail(lower) && utf8.RuneCountInString(body) <= 200 {
			return attrWeak
		}
	}
	if m := bracketEmailRe.FindStringIndex(body); m != nil && (hasDate(body[:m[0]]) || hasTime(body[:m[0]])) {
		return attrAddr
	}
	// "03.03.2026 10:00, support@example.com:": a numeric date first and a
	// bare address last.
	if body != "" && body[0] >= '0' && body[0] <= '9' && hasDate(body) && bareEmailEndRe.MatchString(body) {
		return attrAddr
	}
	return attrNone
}

// attribution reports whether an attribution starts at line i and, if so,
// the index of its last line. Gmail wraps long attributions, so one may span
// up to three lines; a line that ends in a colon ends it.
func attribution(lines []string, i int) (last int, ok bool) {
	first := norm(lines[i])
	if first == "" || isQuoted(lines[i]) {
		return 0, false
	}
	if i+1 < len(lines) && isQuoted(lines[i+1]) && leadsQuote(first) {
		return i, true
	}
	parts := []string{first}
	for j := i; j < len(lines) && j <= i+2; j++ {
		if j > i {
			l := norm(lines[j])
			if l == "" || isQuoted(lines[j]) || endsSentence(parts[len(parts)-1]) {
				return 0, false
			}
			parts = append(parts, l)
		}
		joined := strings.Join(parts, " ")
		if len(joined) > maxAttrLn {
			return 0, false
		}
		if !endsWithColon(parts[len(parts)-1]) {
			continue
		}
		// An attribution that starts on a later line is that line's.
		for m := 1; m < len(parts); m++ {
			if k := attrText(strings.Join(parts[m:], " ")); k == attrDated || k == attrAddr {
				return 0, false
			}
		}
		switch attrText(joined) {
		case attrDated, attrAddr:
			return j, true
		case attrWeak:
			if j == i {
				return j, true
			}
		}
		return 0, false
	}
	return 0, false
}

// endsSentence reports whether l ends with a full stop, so that it cannot be
// the first part of a wrapped attribution.
func endsSentence(l string) bool {
	r, _ := utf8.DecodeLastRuneInString(l)
	return strings.ContainsRune(".!?。！？", r)
}

// leadsQuote reports whether l reads like a custom attribution such as
// "* Alice <alice@acme.test> [2026-11-23 10:00 +0800]:": it ends with a
// colon and names an address, or a year and a time. It counts only directly
// above a quoted line.
func leadsQuote(l string) bool {
	if !endsWithColon(l) || len(l) > maxAttrLn {
		return false
	}
	return hasEmail(l) || (hasDate(l) && hasTime(l))
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
// (it names an address, or a date and a time) is also dropped when nothing
// follows it (an HTML quote was cut below it), and ends the new text when
// unquoted text follows it, as Yahoo and some mobile clients quote without
// ">" marks; a verb-less "date Name <addr>:" does so only when a blank line
// follows it, as clients write it, since directly above text it reads as a
// log line. Anything else is the person's own text.
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
		joined := norm(strings.Join(s.lines[c.first:c.last+1], " "))
		kind := attrText(joined)
		spec := kind != attrWeak && specific(joined)
		f := fateKeep
		switch {
		case follow == followRemoved:
			f = fateDrop
		case follow == followEnd && spec:
			f = fateDrop
		case follow == followText && spec && (kind == attrDated ||
			c.last+1 < len(s.lines) && isBlank(s.lines[c.last+1])):
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
