package dsn

import (
	"regexp"
	"strings"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

// idList collects Message-IDs in order, without duplicates.
type idList struct {
	ids  []string
	seen map[string]bool
	skip map[string]bool // known addresses: never taken for ids
}

// maxIDs bounds how many ids one report yields.
const maxIDs = 50

func (l *idList) add(id string) {
	id = strings.TrimSpace(strings.Trim(strings.TrimSpace(id), "<>"))
	if len(id) > 7 && strings.EqualFold(id[:7], "mailto:") {
		return // Exchange's "addr<mailto:addr>"
	}
	if id == "" || len(id) > 250 || !strings.Contains(id, "@") || strings.ContainsAny(id, " \t\n<>\"") {
		return
	}
	if l.seen == nil {
		l.seen = map[string]bool{}
	}
	if l.seen[id] || len(l.ids) >= maxIDs {
		return
	}
	l.seen[id] = true
	l.ids = append(l.ids, id)
}

// msgIDToken matches an RFC 5322 3.6.4 msg-id, loosely.
var msgIDToken = regexp.MustCompile(`<([^<>\s@"]{1,200}@[^<>\s@"]{1,200})>`)

// addAll adds every msg-id in a header value; a value with no <> but an @
// and no space (seen in the wild) is taken whole.
func (l *idList) addAll(v string) {
	ms := msgIDToken.FindAllStringSubmatch(v, maxIDs)
	if len(ms) == 0 {
		if v = strings.TrimSpace(v); strings.Contains(v, "@") && !strings.ContainsAny(v, " \t") {
			l.add(v)
		}
		return
	}
	for _, m := range ms {
		l.add(m[1])
	}
}

// addRefs adds In-Reply-To, then References from the newest back: the
// nearest ancestors first.
func (l *idList) addRefs(h textproto.Header) {
	l.addAll(h.Get("In-Reply-To"))
	refs := msgIDToken.FindAllStringSubmatch(h.Get("References"), maxIDs)
	for i := len(refs) - 1; i >= 0; i-- {
		l.add(refs[i][1])
	}
}

var (
	// labelledID: "Message-ID: <...>" in a body, in any case, quoted or
	// indented, also "Message ID", "Original-Message-ID", "X-Message-ID".
	labelledID = regexp.MustCompile(`(?im)^[ \t>]*(?:x-)?(?:original[- ])?message[- _]?id[ \t]*[:=][ \t]*(.*)$`)
	// labelledRef: In-Reply-To / References lines with their continuations.
	labelledRef = regexp.MustCompile(`(?im)^[ \t>]*(?:in-reply-to|references)[ \t]*:[ \t]*(.*(?:\n[ \t>]+[^\n:]*<[^\n]*)*)`)
	// labelledSubject: "Subject: ..." in a body.
	labelledSubject = regexp.MustCompile(`(?im)^[ \t>]*(?:subject|主\s*题|主\s*旨|件名|betreff|objet|asunto)[ \t]*[:：][ \t]*(\S.*)$`)
	// addrContext: text just before an angle-bracketed address.
	addrContext = regexp.MustCompile(`(?i)(?:rcpt to|mail from|from|to|cc|bcc|sender|reply-to|return-path|for|mailto|recipient|address|addr|orcpt|rfc822|user|mailbox|收件人|发件人)\s*[:=;]?\s*$`)
)

// textIDs adds ids found in free text: first those labelled Message-ID,
// then labelled In-Reply-To/References. It returns the unlabelled tokens
// for the caller to add last.
func (l *idList) textIDs(texts []string) {
	for _, t := range texts {
		for _, m := range labelledID.FindAllStringSubmatch(t, maxIDs) {
			v := m[1]
			if strings.TrimSpace(v) == "" {
				// "Message-ID:" with the id folded onto the next line.
				idx := strings.Index(t, m[0]) + len(m[0])
				rest := t[idx:]
				if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
					rest = rest[nl+1:]
					if nl2 := strings.IndexByte(rest, '\n'); nl2 >= 0 {
						rest = rest[:nl2]
					}
					v = rest
				}
			}
			l.addAll(v)
		}
	}
	for _, t := range texts {
		for _, m := range labelledRef.FindAllStringSubmatch(t, maxIDs) {
			refs := msgIDToken.FindAllStringSubmatch(m[1], maxIDs)
			for i := len(refs) - 1; i >= 0; i-- {
				l.add(refs[i][1])
			}
		}
	}
}

// addrField: a header-like line of an address field, in a body.
var addrField = regexp.MustCompile(`(?i)^[ \t>]*(?:resent-)?(?:from|to|cc|bcc|reply-to|sender|return-path|delivered-to|x-original-to|envelope-to|x-failed-recipients|x-postfix-sender|final-recipient|original-recipient|sender address|recipient address)[ \t]*:`)

// looseIDs adds any other <...@...> token in the texts that is not a known
// address and is not written where an address would be.
func (l *idList) looseIDs(texts []string) {
	for _, t := range texts {
		for _, line := range strings.Split(t, "\n") {
			if addrField.MatchString(line) {
				l.skipAddrs(addrToken.FindAllString(line, 50)...)
			}
		}
	}
	for _, t := range texts {
		for _, loc := range msgIDToken.FindAllStringSubmatchIndex(t, 500) {
			tok := t[loc[2]:loc[3]]
			if l.skip[strings.ToLower(tok)] {
				continue
			}
			lineStart := strings.LastIndexByte(t[:loc[0]], '\n') + 1
			before := t[lineStart:loc[0]]
			if addrContext.MatchString(before) || strings.HasSuffix(before, "mailto:") || addrField.MatchString(before) {
				continue
			}
			l.add(tok)
		}
	}
}

// skipAddrs remembers addresses that must not be read as Message-IDs.
func (l *idList) skipAddrs(addrs ...string) {
	if l.skip == nil {
		l.skip = map[string]bool{}
	}
	for _, a := range addrs {
		if a = strings.ToLower(strings.TrimSpace(a)); a != "" {
			l.skip[a] = true
		}
	}
}

// headerAddrs returns the addresses in a header's address fields.
func headerAddrs(h textproto.Header) []string {
	var out []string
	for _, k := range []string{"From", "To", "Cc", "Reply-To", "Sender", "Return-Path", "Delivered-To", "X-Original-To", "Envelope-To", "X-Failed-Recipients"} {
		for _, v := range h.Values(k) {
			for _, m := range addrToken.FindAllString(v, 50) {
				out = append(out, m)
			}
		}
	}
	return out
}

// subjectOf decodes a header's Subject (RFC 2047), or returns it raw.
func subjectOf(h textproto.Header) string {
	mh := mail.Header{Header: message.Header{Header: h}}
	s, err := mh.Subject()
	if err != nil {
		s = h.Get("Subject")
	}
	return s
}

// findIDs fills r.MessageIDs and r.Subject from everything p holds, most
// reliable first (see Report.MessageIDs).
func (p *parsed) findIDs(r *Report, texts []string, extra []string) {
	var l idList
	l.skipAddrs(headerAddrs(p.header)...)
	for _, rc := range r.Recipients {
		l.skipAddrs(rc.Addr)
	}
	if r.Sender != "" {
		l.skipAddrs(r.Sender)
	}
	for _, id := range extra {
		l.add(id)
	}
	var inners []*textproto.Header
	for _, pt := range p.parts {
		if pt.inner != nil {
			inners = append(inners, pt.inner)
			l.skipAddrs(headerAddrs(*pt.inner)...)
		}
	}
	for _, h := range inners {
		l.addAll(h.Get("Message-Id"))
	}
	for _, h := range inners {
		l.addRefs(*h)
	}
	for _, h := range inners {
		if r.Subject == "" {
			r.Subject = subjectOf(*h)
		}
	}
	l.textIDs(texts)
	l.addRefs(p.header)
	l.looseIDs(texts)
	own := strings.Trim(strings.TrimSpace(p.header.Get("Message-Id")), "<>")
	for _, id := range l.ids {
		if id != own {
			r.MessageIDs = append(r.MessageIDs, id)
		}
	}
	if r.Subject == "" {
		for _, t := range texts {
			if m := labelledSubject.FindStringSubmatch(t); m != nil {
				r.Subject = m[1]
				break
			}
		}
	}
	if r.Subject == "" {
		// Exchange and others name the bounce after the original:
		// "Undeliverable: <subject>".
		if s := subjectOf(p.header); bouncePrefix.MatchString(s) {
			r.Subject = bouncePrefix.ReplaceAllString(s, "")
		}
	}
}

// bouncePrefix: what NDRs put before the original subject.
var bouncePrefix = regexp.MustCompile(`(?i)^\s*(?:undeliverable|undelivered|unzustellbar|nicht zustellbar|non remis|non recapitabile|onbestelbaar|no se puede entregar|não é possível entregar|delivery delayed|delivery failure|returned mail|退信|投递失败)\s*[:：]\s*`)
