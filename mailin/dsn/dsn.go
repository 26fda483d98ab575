// Package dsn reads bounces and delivery status notifications; it decides
// nothing.
//
// It owns one question: given a raw mail, is it a report about the delivery
// of some earlier message, and if so, which recipients failed or were
// delayed, why, and which message (by Message-ID) it is about. It reads
// RFC 3464 delivery status notifications (multipart/report with
// message/delivery-status, RFC 6522), their internationalized form
// (message/global-delivery-status, RFC 6533), the returned message or its
// headers (message/rfc822, message/global, text/rfc822-headers), Amazon SES
// notifications in JSON, and the plain-text bounces that qmail, Exim,
// Exchange, Postfix, Sendmail, Gmail, Yahoo, DragonFly DMA, Courier, Lotus
// Domino, GroupWise, MDaemon and others still send.
//
// It does not decide what a bounce means for a case, does not answer, and
// does no I/O. Read never panics and always terminates, whatever the input:
// sizes, MIME depth and part counts are bounded, and every string it returns
// is valid UTF-8.
package dsn

import (
	"strings"
	"unicode/utf8"
)

// Report is what a bounce says.
type Report struct {
	// Form is which format was recognised: "rfc3464" (a delivery-status
	// part was read), "ses" (Amazon SES JSON), or the plain-text style:
	// "qmail", "exim", "exchange", "postfix-text", "sendmail-text",
	// "gmail", "yahoo", "dragonfly", "opensmtpd", "courier", "domino",
	// "groupwise", "mdaemon", "smtpsvc", "sun", "communigate",
	// "hmailserver", "james", "messagelabs", "qq", "netease", and "text"
	// for a bounce recognised only by its sender and wording.
	Form string
	// Recipients has one entry per failed, delayed (or otherwise
	// reported) recipient, in the order the report gives them. When a
	// text bounce names no recipient, it holds one entry with an empty
	// Addr, so that Permanent and Delayed still answer.
	Recipients []Recipient
	// MessageIDs are the Message-IDs of the returned (original) message,
	// without <>, most reliable first: the returned message's own
	// Message-ID header, then its In-Reply-To and References, then ids
	// labelled "Message-ID:" in the report's text, then the bounce's own
	// In-Reply-To/References, then any other <...@...> token found in the
	// body text that is not a known address.
	MessageIDs []string
	// Subject of the returned message, if known.
	Subject string
	// ReportingMTA is the RFC 3464 2.2.2 Reporting-MTA without its type
	// prefix, "" if not given.
	ReportingMTA string
	// Sender is the envelope sender of the returned message when the
	// report names it (X-Postfix-Sender, SES mail.source), "" otherwise.
	Sender string
}

// Recipient is one recipient's delivery status (RFC 3464 2.3).
type Recipient struct {
	// Addr is the Final-Recipient (or Original-Recipient, or the address in
	// the text), lowercased, without the "rfc822;" type prefix.
	Addr string
	// Action is failed | delayed | delivered | relayed | expanded
	// (lowercase). Text bounces say failed unless they say they are only
	// a warning or will retry.
	Action string
	// Status is the RFC 3463 enhanced status code, e.g. "5.1.1", from
	// Status:, the Diagnostic-Code or the text; "" if none was found.
	Status string
	// Diagnostic is the Diagnostic-Code without its type prefix, or the
	// MTA's text reason: one line, trimmed, at most maxDiag runes.
	Diagnostic string
	// RemoteMTA is the RFC 3464 2.3.5 Remote-MTA without its type prefix,
	// "" if not given.
	RemoteMTA string
}

// maxDiag bounds Recipient.Diagnostic, in runes.
const maxDiag = 500

// Read parses raw mail. ok is false when the mail is not a bounce or
// delivery report: human mail, auto-replies, read receipts (RFC 8098) and
// feedback reports (RFC 5965) all give false.
//
// A mail system's mail that carries a bounce as an attached message (a
// gateway or filter passing the bounce on, wrapped as message/rfc822) is
// read by that attached bounce.
func Read(raw []byte) (r *Report, ok bool) {
	return readAt(raw, 0)
}

func readAt(raw []byte, depth int) (*Report, bool) {
	m := collect(raw)
	x := headerHints(m.header)
	r, ok := m.read(x)
	if !ok {
		return m.readWrapped(x, depth)
	}
	r.finish()
	return r, true
}

// readWrapped reads the first attached message of a mail from a mail
// system (its sender or null envelope, by x) that is itself a bounce. A
// person's forward is left alone, as read does.
func (p *parsed) readWrapped(x hints, depth int) (*Report, bool) {
	if depth >= maxDepth || !(x.robotSender || x.nullPath) {
		return nil, false
	}
	for _, pt := range p.parts {
		if pt.typ != "message/rfc822" && pt.typ != "message/global" {
			continue
		}
		if r, ok := readAt(pt.body, depth+1); ok {
			return r, true
		}
	}
	return nil, false
}

// Permanent reports whether any recipient failed permanently: Action
// failed, or a 5.x.x status (RFC 3463 3.1).
func (r *Report) Permanent() bool {
	for _, rc := range r.Recipients {
		if rc.Action == "failed" || strings.HasPrefix(rc.Status, "5.") {
			return true
		}
	}
	return false
}

// Delayed reports whether the report only says delivery is delayed: some
// recipient has Action delayed or a 4.x.x status, and none failed.
func (r *Report) Delayed() bool {
	if r.Permanent() {
		return false
	}
	for _, rc := range r.Recipients {
		if rc.Action == "delayed" || strings.HasPrefix(rc.Status, "4.") {
			return true
		}
	}
	return false
}

// finish normalises what the readers found: valid UTF-8 everywhere,
// lowercased addresses and actions, bounded diagnostics, actions inferred
// from status codes, duplicates merged.
func (r *Report) finish() {
	r.Form = clean(r.Form)
	r.Subject = oneLine(clean(r.Subject), 998)
	r.ReportingMTA = oneLine(clean(r.ReportingMTA), 255)
	r.Sender = strings.ToLower(oneLine(clean(r.Sender), 255))
	var out []Recipient
	seen := map[string]int{}
	for _, rc := range r.Recipients {
		rc.Addr = strings.ToLower(oneLine(clean(rc.Addr), 320))
		rc.Action = strings.ToLower(oneLine(clean(rc.Action), 32))
		rc.Status = clean(rc.Status)
		rc.Diagnostic = oneLine(clean(rc.Diagnostic), maxDiag)
		rc.RemoteMTA = oneLine(clean(rc.RemoteMTA), 255)
		if rc.Status == "" {
			rc.Status = findStatus(rc.Diagnostic)
		}
		if rc.Action == "" {
			rc.Action = actionFromStatus(rc.Status)
		}
		if i, dup := seen[rc.Addr]; dup && rc.Addr != "" {
			out[i] = merge(out[i], rc)
			continue
		}
		seen[rc.Addr] = len(out)
		out = append(out, rc)
	}
	r.Recipients = out
	var ids []string
	for _, id := range r.MessageIDs {
		if id = clean(id); id != "" {
			ids = append(ids, id)
		}
	}
	r.MessageIDs = ids
}

// merge combines two entries for the same address, keeping the first's
// values and filling in what it lacks.
func merge(a, b Recipient) Recipient {
	if a.Action == "" {
		a.Action = b.Action
	}
	if a.Status == "" {
		a.Status = b.Status
	}
	if a.Diagnostic == "" || (findStatus(a.Diagnostic) == "" && findStatus(b.Diagnostic) != "") {
		a.Diagnostic = b.Diagnostic
	}
	if a.RemoteMTA == "" {
		a.RemoteMTA = b.RemoteMTA
	}
	return a
}

// actionFromStatus infers an RFC 3464 2.3.3 action from an RFC 3463 class.
func actionFromStatus(status string) string {
	switch {
	case strings.HasPrefix(status, "5."):
		return "failed"
	case strings.HasPrefix(status, "4."):
		return "delayed"
	case strings.HasPrefix(status, "2."):
		return "delivered"
	}
	return "failed"
}

// clean makes s valid UTF-8 and trims it.
func clean(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.TrimSpace(s)
}

// oneLine collapses all white space runs (line breaks included) to one
// space and cuts s to at most max runes.
func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max {
			return strings.TrimSpace(s[:i])
		}
		n++
	}
	return s
}
