package dsn

import (
	"bufio"
	"bytes"
	"encoding/json"
	"regexp"
	"strings"

	"github.com/emersion/go-message/textproto"
)

var (
	// bounceSubject: subjects MTAs give bounces and delay warnings.
	bounceSubject = regexp.MustCompile(`(?i)(undeliver|undelivered|non[- ]?deliver|delivery (?:status notification|failure|failed|problem|report|notification|has failed|delayed|incomplete)|mail delivery (?:failed|failure|system|subsystem)|returned mail|returning message to sender|failure notice|could not (?:be )?deliver|not delivered|message status - undeliverable|delayed mail|warning: could not send|mail system error|permanent delivery failure|nondeliverable|delivery failure|退信|投递失败|未能送达|无法投递|無法傳遞|配信不能|配送失敗|unzustellbar|non remis|no se puede entregar)`)
	// forwardSubject: a person forwarding or answering a bounce.
	forwardSubject = regexp.MustCompile(`(?i)^\s*(?:fwd?|fw|wg|tr|rv|re|aw|sv|vs|antw|转发|回复)\s*:`)
	// failureText: wording that says a delivery failed, for bounces that
	// match no known style.
	failureText = regexp.MustCompile(`(?i)(could not be delivered|couldn't be delivered|was not delivered|undeliverable|delivery (?:has )?failed|failed to deliver|unable to deliver|user unknown|unknown user|no such user|mailbox unavailable|mailbox not found|does not exist|address rejected|recipient rejected|permanent error|delivery to the following|not be delivered|delivery problem|returned to sender|退信|投递失败|无法投递|配信できません|[45][0-9][0-9][ -][245]\.[0-9]{1,3}\.[0-9]{1,3})`)
	robotName   = regexp.MustCompile(`(?i)^\s*"?(?:mail delivery (?:subsystem|system|service)|mail administrator|mail router|mailer[- ]?daemon|post ?master|microsoft outlook|delivery status notification|mail system|系统退信|系统邮件)"?\s*$`)
)

// hints are what a bounce's header says about it.
type hints struct {
	robotSender bool // From is a mail system (MAILER-DAEMON, postmaster, ...) or empty
	nullPath    bool // Return-Path: <> (RFC 5321 4.5.5)
	failedRcpts []string
	subject     bool // Subject reads like a bounce
	forwarded   bool // Subject is a person's forward or reply
	auto        bool // Auto-Submitted other than no (RFC 3834 5)
}

func headerHints(h textproto.Header) hints {
	var x hints
	from := h.Get("From")
	fromAddr := strings.ToLower(firstAddr(from))
	name := from
	if i := strings.IndexByte(from, '<'); i >= 0 {
		name = from[:i]
	}
	// A From without an address ("MAILER-DAEMON <>", Courier's "<@>") is
	// a mail system's; so are the mail system's own names.
	x.robotSender = (h.Has("From") && fromAddr == "") || robotName.MatchString(name)
	switch squashedLocal(fromAddr) {
	case "mailerdaemon", "postmaster", "maildaemon", "mdaemon", "maildelivery", "mailersystem":
		x.robotSender = true
	}
	rp := strings.TrimSpace(h.Get("Return-Path"))
	x.nullPath = rp == "<>" || rp == "< >"
	for _, v := range h.Values("X-Failed-Recipients") {
		x.failedRcpts = append(x.failedRcpts, addrToken.FindAllString(v, 50)...)
	}
	subj := subjectOf(h)
	x.subject = bounceSubject.MatchString(subj)
	x.forwarded = forwardSubject.MatchString(subj)
	as := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted")))
	x.auto = as != "" && !strings.HasPrefix(as, "no")
	// A person's mail client: whoever uses it, postmaster included, is
	// writing as a person.
	if mailClient.MatchString(h.Get("User-Agent")+" "+h.Get("X-Mailer")) && !x.nullPath {
		x.robotSender = false
	}
	return x
}

// mailClient: User-Agent or X-Mailer of a mail client people write with.
var mailClient = regexp.MustCompile(`(?i)(thunderbird|mozilla|microsoft outlook|outlook|apple mail|iphone mail|ipad mail|foxmail|k-9|evolution|claws|mutt|neomutt|roundcube|squirrelmail|horde|kmail|mailmate|airmail|spark|the bat|em client|gnus|alpine|sylpheed|windows mail|windows live mail|mailbird|postbox|superhuman|proton)`)

func firstAddr(v string) string {
	return addrToken.FindString(v)
}

// LooksLikeBounce reports, from the header alone, whether raw is probably
// a bounce or delivery report. It is cheaper than Read and may be wrong
// both ways; Read has the last word.
func LooksLikeBounce(raw []byte) bool {
	h := readHeader(raw)
	ct := strings.ToLower(h.Get("Content-Type"))
	if strings.Contains(ct, "multipart/report") && strings.Contains(ct, "delivery-status") {
		return true
	}
	x := headerHints(h)
	if x.forwarded && !x.robotSender && !x.nullPath {
		return false
	}
	return len(x.failedRcpts) > 0 || (x.robotSender && (x.subject || x.nullPath)) || (x.subject && (x.nullPath || x.auto))
}

// read decides whether p is a delivery report and reads it; x are the
// hints of its header.
func (p *parsed) read(x hints) (*Report, bool) {
	h := p.header
	exclude := map[string]bool{}
	for _, a := range headerAddrs(h) {
		if !contains(x.failedRcpts, a) {
			exclude[strings.ToLower(a)] = true
		}
	}
	// Reports about something other than delivery: RFC 8098 read
	// receipts, RFC 5965 feedback (abuse) reports.
	switch p.reportType {
	case "disposition-notification", "feedback-report":
		return nil, false
	}
	var dsParts []string
	for _, pt := range p.parts {
		switch pt.typ {
		case "message/disposition-notification", "message/feedback-report":
			return nil, false
		case "message/delivery-status", "message/global-delivery-status":
			dsParts = append(dsParts, textOf(pt.body))
		}
	}
	if x.forwarded && !x.robotSender && !x.nullPath {
		return nil, false // a person passing a bounce on, or answering one
	}
	texts := p.texts()
	human := p.humanTexts()

	// RFC 3464 / RFC 6533 delivery status.
	if len(dsParts) > 0 {
		r := &Report{Form: "rfc3464"}
		for _, s := range dsParts {
			readDeliveryStatus(s, r)
		}
		if len(r.Recipients) == 0 {
			// A report whose status part is empty or garbled: read its
			// human-readable part instead.
			r.Recipients = readText(human, "rfc3464", exclude).Recipients
		}
		fillFromText(r, human, exclude)
		p.findIDs(r, texts, nil)
		return r, true
	}

	// Amazon SES notifications (JSON, possibly inside an SNS envelope).
	for _, t := range human {
		if r, extra, ok := readSES(t); ok {
			p.findIDs(r, nil, extra)
			return r, true
		}
	}

	// Who sent it: a mail system's sender or null envelope (RFC 5321
	// 4.5.5), Exim's X-Failed-Recipients, or a report's MIME type. An
	// Auto-Submitted header alone is not enough: auto-replies have it.
	robot := x.robotSender || x.nullPath || len(x.failedRcpts) > 0 || p.reportType == "delivery-status"
	var form string
	for _, t := range human {
		if f := detectForm(asciiLower(unquoted(t))); f != "" {
			form = f
			break
		}
	}
	inline := inlineStatus(human) // delivery-status fields in the text: MIME lost on the way
	switch {
	case form != "" && robot:
		// A bounce's wording alone, under a bounce-like subject, may be a
		// person pasting one; a mail system's sender or envelope must
		// say so too.
	case inline != nil && robot:
		fillFromText(inline, human, exclude)
		p.findIDs(inline, texts, nil)
		return inline, true
	case (x.robotSender && (x.subject || x.nullPath) || len(x.failedRcpts) > 0 || p.reportType == "delivery-status" || (x.subject && x.nullPath)) && anyMatch(failureText, human):
		// No known style: a mail system's sender, under a bounce's
		// subject or envelope, saying that delivery failed.
		form = "text"
	default:
		return nil, false
	}
	r := readText(human, form, exclude)
	if inline != nil {
		mergeInline(r, inline)
	}
	if len(x.failedRcpts) > 0 {
		r.Recipients = withFailed(r.Recipients, x.failedRcpts)
	}
	p.findIDs(r, texts, nil)
	return r, true
}

var (
	finalRecipientLine = regexp.MustCompile(`(?im)^final-recipient[ \t]*:`)
	actionLine         = regexp.MustCompile(`(?im)^action[ \t]*:`)
)

// inlineStatus reads RFC 3464 per-recipient fields written into a text
// part (a flattened report, CommuniGate's text bounce), nil if there are
// none.
func inlineStatus(texts []string) *Report {
	for _, t := range texts {
		if !finalRecipientLine.MatchString(t) || !actionLine.MatchString(t) {
			continue
		}
		r := &Report{Form: "rfc3464"}
		readDeliveryStatus(t, r)
		var rs []Recipient
		for _, rc := range r.Recipients {
			if strings.Contains(rc.Addr, "@") {
				rs = append(rs, rc)
			}
		}
		if len(rs) > 0 {
			r.Recipients = rs
			return r
		}
	}
	return nil
}

// mergeInline completes a text bounce's recipients from delivery-status
// fields found in its text.
func mergeInline(r, inline *Report) {
	if r.ReportingMTA == "" {
		r.ReportingMTA = inline.ReportingMTA
	}
	for _, in := range inline.Recipients {
		found := false
		for i := range r.Recipients {
			rc := &r.Recipients[i]
			if rc.Addr == in.Addr || (rc.Addr == "" && len(inline.Recipients) == 1) {
				found = true
				rc.Addr = in.Addr
				if rc.Status == "" {
					rc.Status = in.Status
				}
				if rc.Diagnostic == "" {
					rc.Diagnostic = in.Diagnostic
				}
			}
		}
		if !found {
			r.Recipients = append(r.Recipients, in)
		}
	}
}

// fillFromText completes DSN recipients that lack a diagnostic or status
// from the human-readable part (some MTAs put the SMTP reply only there).
func fillFromText(r *Report, human []string, exclude map[string]bool) {
	need := false
	for _, rc := range r.Recipients {
		if rc.Diagnostic == "" || rc.Status == "" {
			need = true
		}
	}
	if !need {
		return
	}
	tr := readText(human, r.Form, exclude)
	for i := range r.Recipients {
		rc := &r.Recipients[i]
		for _, t := range tr.Recipients {
			if t.Addr == rc.Addr || (len(r.Recipients) == 1 && len(tr.Recipients) == 1) {
				if rc.Diagnostic == "" {
					rc.Diagnostic = t.Diagnostic
				}
				if rc.Status == "" {
					rc.Status = findStatus(rc.Diagnostic)
				}
			}
		}
	}
}

// withFailed makes sure every address of X-Failed-Recipients (Exim) is a
// recipient; an entry with no address takes the first of them.
func withFailed(rs []Recipient, failed []string) []Recipient {
	for _, a := range failed {
		a = strings.ToLower(a)
		found := false
		for i := range rs {
			if rs[i].Addr == a {
				found = true
			}
		}
		if found {
			continue
		}
		filled := false
		for i := range rs {
			if rs[i].Addr == "" {
				rs[i].Addr, filled = a, true
				break
			}
		}
		if !filled {
			act := "failed"
			if len(rs) > 0 {
				act = rs[0].Action
			}
			rs = append(rs, Recipient{Addr: a, Action: act})
		}
	}
	return rs
}

func anyMatch(re *regexp.Regexp, texts []string) bool {
	for _, t := range texts {
		if re.MatchString(unquoted(t)) {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}

// sesNote is the part of an Amazon SES notification Read uses (SES
// notification contents, notificationType / eventType Bounce,
// DeliveryDelay, Delivery).
type sesNote struct {
	NotificationType string `json:"notificationType"`
	EventType        string `json:"eventType"`
	Message          string `json:"Message"` // SNS envelope
	Bounce           *struct {
		BounceType        string `json:"bounceType"`
		ReportingMTA      string `json:"reportingMTA"`
		BouncedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Action         string `json:"action"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
	} `json:"bounce"`
	DeliveryDelay *struct {
		DelayedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"delayedRecipients"`
	} `json:"deliveryDelay"`
	Delivery *struct {
		Recipients   []string `json:"recipients"`
		SMTPResponse string   `json:"smtpResponse"`
		ReportingMTA string   `json:"reportingMTA"`
	} `json:"delivery"`
	Mail struct {
		Source  string `json:"source"`
		Headers []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"headers"`
		CommonHeaders struct {
			MessageID string `json:"messageId"`
			Subject   string `json:"subject"`
		} `json:"commonHeaders"`
	} `json:"mail"`
}

// readSES reads an Amazon SES bounce, delay or delivery notification in
// JSON, bare or inside an SNS envelope. extra are the Message-IDs it names,
// most reliable first.
func readSES(t string) (r *Report, extra []string, ok bool) {
	i := strings.IndexByte(t, '{')
	if i < 0 || !strings.Contains(t, "Type") {
		return nil, nil, false
	}
	var n sesNote
	if json.NewDecoder(strings.NewReader(t[i:])).Decode(&n) != nil {
		return nil, nil, false
	}
	if n.Message != "" && n.NotificationType == "" && n.EventType == "" {
		var inner sesNote
		if json.Unmarshal([]byte(n.Message), &inner) != nil {
			return nil, nil, false
		}
		n = inner
	}
	kind := n.NotificationType
	if kind == "" {
		kind = n.EventType
	}
	r = &Report{Form: "ses", Sender: firstAddr(n.Mail.Source)}
	switch {
	case kind == "Bounce" && n.Bounce != nil:
		r.ReportingMTA = stripType(n.Bounce.ReportingMTA)
		for _, b := range n.Bounce.BouncedRecipients {
			act := b.Action
			if act == "" {
				act = "failed"
			}
			r.Recipients = append(r.Recipients, Recipient{Addr: addrOf(b.EmailAddress), Action: act, Status: findStatus(b.Status), Diagnostic: stripType(b.DiagnosticCode)})
		}
	case kind == "DeliveryDelay" && n.DeliveryDelay != nil:
		for _, b := range n.DeliveryDelay.DelayedRecipients {
			r.Recipients = append(r.Recipients, Recipient{Addr: addrOf(b.EmailAddress), Action: "delayed", Status: findStatus(b.Status), Diagnostic: stripType(b.DiagnosticCode)})
		}
	case kind == "Delivery" && n.Delivery != nil:
		r.ReportingMTA = stripType(n.Delivery.ReportingMTA)
		for _, a := range n.Delivery.Recipients {
			r.Recipients = append(r.Recipients, Recipient{Addr: addrOf(a), Action: "delivered", Status: findStatus(n.Delivery.SMTPResponse), Diagnostic: n.Delivery.SMTPResponse})
		}
	default:
		return nil, nil, false // complaints and others are not delivery reports
	}
	if len(r.Recipients) == 0 {
		return nil, nil, false
	}
	// The original headers, as SES lists them.
	var hdr bytes.Buffer
	for _, f := range n.Mail.Headers {
		if fieldLine.MatchString(f.Name + ":") {
			hdr.WriteString(f.Name + ": " + strings.ReplaceAll(f.Value, "\n", " ") + "\n")
		}
	}
	hdr.WriteString("\n")
	h, err := textproto.ReadHeader(bufio.NewReader(&hdr))
	var l idList
	l.addAll(n.Mail.CommonHeaders.MessageID)
	if err == nil {
		l.addAll(h.Get("Message-Id"))
		l.addRefs(h)
	}
	r.Subject = n.Mail.CommonHeaders.Subject
	if r.Subject == "" && err == nil {
		r.Subject = subjectOf(h)
	}
	return r, l.ids, true
}
