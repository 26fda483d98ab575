package cases

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// Match says how a message was matched to its case (SPEC §3).
type Match string

// How a message found its case.
const (
	MatchToken  Match = "token"
	MatchHeader Match = "header"
	MatchNew    Match = "new"
)

// Threader finds case tokens in subjects and writes them.
type Threader struct {
	tag string
	re  *regexp.Regexp
}

// NewThreader returns a Threader for a tag such as "Case".
//
// The token is matched on the subject as written, in ASCII or full-width
// forms (【Case＃12】, ［Ｃａｓｅ＃１２］), case-insensitively and with any
// spaces inside; the rest of the subject is never rewritten.
func NewThreader(tag string) *Threader {
	var b strings.Builder
	for _, r := range tag {
		b.WriteString("[")
		for _, v := range []rune{unicode.ToLower(r), unicode.ToUpper(r)} {
			b.WriteString(regexp.QuoteMeta(string(v)))
			if v >= 0x21 && v <= 0x7e {
				b.WriteRune(v + 0xfee0) // the full-width form
			}
		}
		b.WriteString("]")
	}
	sp := `[\s\x{3000}]*`
	re := regexp.MustCompile(`[\[［【〔]` + sp + b.String() + sp + `[#＃]` + sp + `([0-9０-９]{1,12})` + sp + `[\]］】〕]`)
	return &Threader{tag: tag, re: re}
}

// Token returns the subject token of case n, "[Case#12]".
func (th *Threader) Token(n int64) string { return fmt.Sprintf("[%s#%d]", th.tag, n) }

// FindToken returns the case number in a subject, if it has a token. When
// several tokens appear (a forwarded case), the first one wins.
func (th *Threader) FindToken(subject string) (int64, bool) {
	m := th.re.FindStringSubmatch(subject)
	if m == nil {
		return 0, false
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '０' && r <= '９' {
			return r - '０' + '0'
		}
		return r
	}, m[1])
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// StripToken removes every token and reply prefix from a subject, leaving
// the words the customer wrote.
func (th *Threader) StripToken(subject string) string {
	return CleanSubject(th.re.ReplaceAllString(subject, " "))
}

// Subject returns the subject of mail about case n: "[Case#12] words".
func (th *Threader) Subject(n int64, subject string) string {
	clean := th.StripToken(subject)
	if clean == "" {
		return th.Token(n)
	}
	return th.Token(n) + " " + clean
}

// replyPrefix matches the reply and forward prefixes mail clients add, in
// English, Chinese and a few European languages: "Re:", "RE[2]:", "Fwd:",
// "FW:", "回复:", "答复:", "转发:", "AW:", "WG:", "SV:", "VS:".
var replyPrefix = regexp.MustCompile(`(?i)^[\s\x{3000}]*(re|fwd?|aw|wg|sv|vs|ｒｅ|ＲＥ|Ｒｅ|回复|答复|转发|回覆|轉寄)[\s\x{3000}]*(\[\d+\]|\(\d+\))?[\s\x{3000}]*[:：][\s\x{3000}]*`)

// CleanSubject removes reply prefixes and collapses spaces.
func CleanSubject(s string) string {
	s = strings.Join(strings.FieldsFunc(s, func(r rune) bool { return unicode.IsSpace(r) && r != '\u3000' }), " ")
	for {
		t := replyPrefix.ReplaceAllString(s, "")
		if t == s {
			break
		}
		s = strings.TrimSpace(t)
	}
	return s
}

// MessageID returns a Message-ID (without <>) for mail about case n. It
// encodes the case number, so a reply whose subject was mangled still
// threads by its In-Reply-To (SPEC §3).
func MessageID(n int64, kind, unique, domain string) string {
	return fmt.Sprintf("case-%d.%s.%s@%s", n, kind, unique, domain)
}

var ownID = regexp.MustCompile(`^case-(\d+)\.`)

// CaseFromMessageID returns the case number encoded in one of helpdeskd's
// own Message-IDs for the given domain.
func CaseFromMessageID(id, domain string) (int64, bool) {
	if !strings.HasSuffix(strings.ToLower(id), "@"+strings.ToLower(domain)) {
		return 0, false
	}
	m := ownID.FindStringSubmatch(id)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	return n, err == nil && n > 0
}

// MessageIDKind returns the kind of mail (the template name) encoded in
// one of helpdeskd's own Message-IDs, "" if it is none.
func MessageIDKind(id string) string {
	rest, ok := strings.CutPrefix(id, "case-")
	if !ok {
		return ""
	}
	parts := strings.SplitN(rest, ".", 3)
	if len(parts) < 3 {
		return ""
	}
	return parts[1]
}
