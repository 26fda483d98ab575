package cases

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/text/unicode/norm"
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
func NewThreader(tag string) *Threader {
	// After NFKC folding ("＃"→"#", full-width letters and digits → ASCII)
	// and mapping 【】 to [], the token is "[" tag "#" digits "]", matched
	// case-insensitively with any spaces inside.
	re := regexp.MustCompile(`(?i)\[\s*` + regexp.QuoteMeta(tag) + `\s*#\s*(\d{1,12})\s*\]`)
	return &Threader{tag: tag, re: re}
}

// Token returns the subject token of case n, "[Case#12]".
func (th *Threader) Token(n int64) string { return fmt.Sprintf("[%s#%d]", th.tag, n) }

// FindToken returns the case number in a subject, if it has a token. When
// several tokens appear (a forwarded case), the first one wins.
func (th *Threader) FindToken(subject string) (int64, bool) {
	s := foldSubject(subject)
	m := th.re.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	return n, true
}

// StripToken removes every token and reply prefix from a subject, leaving
// the words the customer wrote.
func (th *Threader) StripToken(subject string) string {
	s := foldSubject(subject)
	s = th.re.ReplaceAllString(s, " ")
	return CleanSubject(s)
}

// Subject returns the subject of mail about case n: "[Case#12] words".
func (th *Threader) Subject(n int64, subject string) string {
	clean := th.StripToken(subject)
	if clean == "" {
		return th.Token(n)
	}
	return th.Token(n) + " " + clean
}

func foldSubject(s string) string {
	s = norm.NFKC.String(s)
	return strings.NewReplacer("【", "[", "】", "]", "〔", "[", "〕", "]").Replace(s)
}

// replyPrefix matches the reply and forward prefixes mail clients add, in
// English, Chinese and a few European languages: "Re:", "RE[2]:", "Fwd:",
// "FW:", "回复:", "答复:", "转发:", "AW:", "WG:", "SV:", "VS:".
var replyPrefix = regexp.MustCompile(`(?i)^\s*(re|fwd?|aw|wg|sv|vs|回复|答复|转发|回覆|轉寄)\s*(\[\d+\]|\(\d+\))?\s*[:：]\s*`)

// CleanSubject removes reply prefixes and collapses spaces.
func CleanSubject(s string) string {
	s = strings.Join(strings.Fields(s), " ")
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
