package dsn

import (
	"regexp"
	"strings"
)

// textForm is a plain-text bounce style, recognised by phrases its MTA
// always writes.
type textForm struct {
	name    string
	markers []string // lowercase phrases; any one identifies the form
}

// textForms are tried in order; the first whose marker occurs (outside
// quoted lines) names the form. More specific forms come first.
var textForms = []textForm{
	{"qmail", []string{"this is the qmail-send program at", "hi. this is the qmail"}},
	{"messagelabs", []string{"this is the mail delivery agent at messagelabs", "this is an automatically generated message from messagelabs"}},
	{"yahoo", []string{"sorry, we were unable to deliver your message to the following address", "message from yahoo.com.", "unable to deliver message to the following address(es)"}},
	{"dragonfly", []string{"this is the dragonfly mail agent"}},
	{"opensmtpd", []string{"this is the mailer-daemon, please do not reply", "an error has occurred while attempting to deliver a message for"}},
	{"courier", []string{"running the courier mail server", "this is a delivery status notification from"}},
	{"hmailserver", []string{"hmailserver sent:", "this message was sent by hmailserver"}},
	{"gmail", []string{"delivery to the following recipient failed permanently", "delivery to the following recipients failed permanently", "google tried to deliver your message", "your message wasn't delivered to", "** address not found **", "** message not delivered **", "delivery to the following recipient has been delayed", "** delivery incomplete **", "gmail will retry"}},
	{"exchange", []string{"delivery has failed to these recipients or groups", "delivery is delayed to these recipients or groups", "your message did not reach some or all of the intended recipients", "diagnostic information for administrators", "remote server returned '", "resolver.adr.", "couldn't be delivered", "the following recipient(s) cannot be reached"}},
	{"smtpsvc", []string{"this is an automatically generated delivery status notification", "delivery to the following recipients failed", "delivery to the following recipients has been delayed"}},
	{"exim", []string{"this message was created automatically by mail delivery software", "a message that you sent could not be delivered to one or more of its", "a message that you sent has not yet been delivered to one or more of its"}},
	{"postfix-text", []string{"this is the mail system at host", "this is the postfix program at host"}},
	{"sendmail-text", []string{"the following addresses had permanent fatal errors", "the following addresses had transient non-fatal errors", "transcript of session follows", "the original message was received at"}},
	{"sun", []string{"this report relates to a message you sent with the following header fields", "your message cannot be delivered to the following recipients"}},
	{"domino", []string{"delivery failure report", "was not delivered to:"}},
	{"groupwise", []string{"the message that you sent was undeliverable to the following", "message status - undeliverable"}},
	{"mdaemon", []string{"permanent fatal delivery errors", "--- session transcript ---", "mdaemon"}},
	{"communigate", []string{"failed to deliver to '"}},
	{"james", []string{"this is the james mail server", "error message below:"}},
	{"qq", []string{"qq邮箱", "此邮件是退信", "很抱歉您的邮件被退回", "您的邮件被退回"}},
	{"netease", []string{"系统退信", "网易", "邮件投递失败", "退信原因"}},
}

// copyMarkers start the returned copy of the message inside a text bounce;
// the report about recipients ends there.
var copyMarkers = []string{
	"--- below this line is a copy of the message",
	"------ this is a copy of the message",
	"------ this is a copy of the body of the message",
	"------ the body of the message is",
	"----- original message follows",
	"----- unsent message follows",
	"----- message header follows",
	"below is a copy of the original message",
	"original message follows.",
	"message headers follow",
	"original message headers:",
	"possibly truncated original message follows",
	"------ original message ------",
	"--- original message ---",
	"-----original message-----",
	"the header of the original message is following",
	"原始邮件",
	"原邮件头",
}

// unquoted drops lines quoted with ">" (a person quoting a bounce), but
// keeps SMTP transcript lines (">>> RCPT TO:").
func unquoted(t string) string {
	if !strings.Contains(t, ">") {
		return t
	}
	var b strings.Builder
	for _, line := range strings.Split(t, "\n") {
		s := strings.TrimLeft(line, " \t")
		if strings.HasPrefix(s, ">") && !strings.HasPrefix(s, ">>> ") {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// detectForm returns the text form whose marker occurs in lower (a
// lowercased, unquoted text), "" if none does.
func detectForm(lower string) string {
	for _, f := range textForms {
		for _, m := range f.markers {
			if strings.Contains(lower, m) {
				return f.name
			}
		}
	}
	return ""
}

// section returns the part of t about recipients: from the top (hMailServer
// and others name the recipient before any marker) to the first copy
// marker.
func section(t, lower string) string {
	end := len(t)
	for _, m := range copyMarkers {
		if i := strings.Index(lower, m); i >= 0 && i < end {
			end = i
		}
	}
	return t[:end]
}

// Bounds for reading text reports: a bounce's report about recipients is
// short, whatever the size of the returned message after it.
const (
	maxSection    = 64 << 10
	maxLines      = 4000
	maxRecipients = 200
)

// addrPat is an address; local part and domain may be internationalized
// (RFC 6531).
const addrPat = `[\p{L}\p{N}!#$%&'*+/=?^_{|}~.-]{1,64}@[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,62}[\p{L}\p{N}])?(?:\.[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,62}[\p{L}\p{N}])?)+`

var addrToken = regexp.MustCompile(addrPat)

// headings are the ways text bounces introduce one recipient. Group 1 is
// the address, group 2 (if any) the start of its reason.
var headings = []*regexp.Regexp{
	// Postfix, qmail, Yahoo, Courier: "<addr>: reason"; Postfix also
	// "<addr> (expanded from <alias>): reason".
	regexp.MustCompile(`^\s*<(` + addrPat + `)>(?:\s*\(expanded from[^)]*\))?\s*:\s*(.*)$`),
	// Sendmail: "<addr>... Deferred: reason", "addr... User unknown".
	regexp.MustCompile(`^\s*<?(` + addrPat + `)>?\.\.\.\s*(.*)$`),
	// Sendmail, SMTPSVC, Exim, Gmail, Domino: the address alone.
	regexp.MustCompile(`^\s{0,12}<?(` + addrPat + `)>?\s*$`),
	// Exchange: "Name (addr)", "addr (addr)", "addr<mailto:addr>".
	regexp.MustCompile(`^\s*[^\s<>():][^<>():]{0,100}?\s*[(<](?:mailto:)?(` + addrPat + `)[)>]\s*$`),
	// GroupWise: "addr (reason)"; Exim: "addr: reason".
	regexp.MustCompile(`^\s*<?(` + addrPat + `)>?\s+\((.+)\)\s*$`),
	// GMX: "\"addr\": reason".
	regexp.MustCompile(`^\s*["']?(` + addrPat + `)["']?\s*:\s*(.*)$`),
	// Zoho: "addr, ERROR CODE :550 - 5.1.1 reason".
	regexp.MustCompile(`^\s*<?(` + addrPat + `)>?\s*,\s*(.+)$`),
	// Exchange 2003: "addr on 12/1/2026 10:00 AM", also quoted.
	regexp.MustCompile(`^\s*'?(` + addrPat + `)'?\s+on\s+\d`),
	// MDaemon transcript: "--> RCPT To:<addr>".
	regexp.MustCompile(`(?i)-->\s*RCPT TO:\s*<(` + addrPat + `)>`),
	// Labelled: Sun "Recipient address:", QQ/163 "收件人：", MDaemon and
	// James "RCPT TO:".
	regexp.MustCompile(`(?i)^\s*(?:>>>\s*)?(?:recipient address|original recipient|failed recipient|recipient|rcpt to|收件人|收信人|收件人地址|empfänger|destinataire)\s*[:：]\s*<?(` + addrPat + `)>?`),
	// Sentences: DMA, O365, Gmail, CommuniGate, Exim delay.
	regexp.MustCompile(`(?i)(?:delivering your mail to|your message to|wasn't delivered to|was not delivered to|failed to deliver to|could not be delivered to|couldn't be delivered to|undeliverable to|problem delivering your message to|has not yet been delivered is|delivery to|您发送给)\s*:?\s*'?<?(` + addrPat + `)>?`),
}

// reasonLabel: lines after which the reason follows.
var reasonLabel = regexp.MustCompile(`(?i)^\s*(?:because:|the error that the other server returned was:|the response from the remote server was:|the response was:|reason:|退信原因[:：]|失败原因[:：]|technical details of (?:permanent|temporary) failure:|remote server replied:|error message below:)\s*(.*)$`)

// smtpReply is a line holding an SMTP reply (RFC 5321 4.2).
var smtpReply = regexp.MustCompile(`(?:^|\s|<<<\s?|#|'|"|said:\s)[245][0-9][0-9](?:[ \-]|$)`)

var (
	delayedText   = regexp.MustCompile(`(?i)(delayed|will (?:be )?retr(?:y|ied)|still trying|not yet been delivered|hasn't been delivered yet|has not been delivered yet|warning message only|warning only|will keep trying|continue to be attempted|delivery will continue|transient non-fatal|temporary problem|temporarily|retrying|delivery incomplete|暂时|延迟)`)
	permanentText = regexp.MustCompile(`(?i)(failed permanently|permanent error|permanent fatal|permanent failure|permanently failed|permanent delivery failure|not going to try again|gave up|giving up|has been removed from the mail queue)`)
)

// textRecipients reads the recipients of a plain-text bounce section.
func textRecipients(sec string, exclude map[string]bool) []Recipient {
	lines := strings.Split(sec, "\n")
	if len(lines) > maxLines {
		lines = lines[:maxLines]
	}
	var out []Recipient
	index := map[string]int{}
	mode := "" // the action the current list of addresses is under
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		switch {
		case delayedList.MatchString(line):
			mode = "delayed"
		case failedList.MatchString(line):
			mode = "failed"
		}
		var addr, rest string
		for _, h := range headings {
			m := h.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			addr = strings.ToLower(strings.TrimRight(m[1], "."))
			if len(m) > 2 {
				rest = m[2]
			}
			break
		}
		if addr == "" || exclude[addr] || robotLocal(addr) || headerish.MatchString(line) {
			continue
		}
		diag := blockAfter(lines, i, rest)
		rc := Recipient{Addr: addr, Diagnostic: diag, Action: mode}
		if j, ok := index[addr]; ok {
			out[j] = merge(out[j], rc)
			continue
		}
		if len(out) == maxRecipients {
			break
		}
		index[addr] = len(out)
		out = append(out, rc)
	}
	return out
}

var (
	// delayedList and failedList head the lists of addresses in Sendmail,
	// Exim and Exchange reports that give failures and delays apart.
	delayedList = regexp.MustCompile(`(?i)(transient non-fatal errors|delivery is delayed to these|has not yet been delivered|delivery to the following recipients? has been delayed)`)
	failedList  = regexp.MustCompile(`(?i)(permanent fatal errors|the following address\(es\) failed|delivery has failed to these|delivery to the following recipients? failed)`)
)

// headerish: a header field of the returned message, quoted in the text;
// the addresses on such lines are not failed recipients.
var headerish = regexp.MustCompile(`(?i)^[ \t>]*(?:message-id|in-reply-to|references|from|to|cc|bcc|subject|date|return-path|received|sender|reply-to|mime-version|content-[a-z-]+|x-[a-z0-9-]+|delivered-to|thread-topic|thread-index|auto-submitted|envelope-to|resent-[a-z]+)[ \t]*:`)

// blockAfter returns the reason that belongs to the heading at lines[i]:
// the rest of its line and the lines after it up to a blank line or the
// next heading. When the block holds an SMTP reply, the reason starts
// there.
func blockAfter(lines []string, i int, rest string) string {
	block := []string{}
	if strings.TrimSpace(rest) != "" {
		block = append(block, rest)
	}
	indent := indentOf(lines[i])
	for j := i + 1; j < len(lines) && j < i+40; j++ {
		l := lines[j]
		t := strings.TrimSpace(l)
		if t == "" {
			if len(block) == 0 && j < i+3 {
				continue // Gmail, Domino: the reason comes after a blank line
			}
			break
		}
		if separator.MatchString(t) {
			break
		}
		// A heading ends the block, unless it is indented deeper than
		// ours: Postfix folds its reason onto lines that may begin with
		// the address again.
		if isHeading(l) && indentOf(l) <= indent {
			break
		}
		block = append(block, l)
	}
	for k, l := range block {
		if smtpReply.MatchString(l) {
			block = block[k:]
			break
		}
	}
	for k := range block {
		l := strings.TrimSpace(block[k])
		if i := strings.Index(l, "<-- "); i >= 0 {
			l = l[i+4:] // MDaemon transcript
		}
		l = strings.TrimPrefix(l, "<<< ")
		if r := strings.TrimPrefix(l, "(reason: "); r != l {
			l = strings.TrimSuffix(r, ")")
		}
		block[k] = l
	}
	return oneLine(strings.Join(block, " "), maxDiag)
}

// separator: a rule line such as "----- Transcript of session follows -----".
var separator = regexp.MustCompile(`^(?:-{3,}|\*{3,}|={3,}|#{3,}|_{3,})`)

func indentOf(l string) int {
	return len(l) - len(strings.TrimLeft(l, " \t"))
}

func isHeading(l string) bool {
	for _, h := range headings[:8] {
		if h.MatchString(l) {
			return true
		}
	}
	return false
}

// sectionReason finds a reason stated once for all recipients: the text
// after a reason label, an SMTP reply line, or Exchange's "Remote Server
// returned '...'"; one that carries a status code is preferred.
func sectionReason(sec string) string {
	lines := strings.Split(sec, "\n")
	var cands []string
	for i, l := range lines {
		if m := reasonLabel.FindStringSubmatch(l); m != nil {
			r := strings.TrimSpace(m[1])
			for j := i + 1; r == "" && j < len(lines) && j < i+4; j++ {
				r = strings.TrimSpace(lines[j])
			}
			if r != "" && !reasonLabel.MatchString(r) {
				cands = append(cands, r)
			}
		}
	}
	for _, l := range lines {
		if smtpReply.MatchString(l) && findStatus(l) != "" {
			cands = append(cands, strings.TrimPrefix(strings.TrimSpace(l), "<<< "))
		}
	}
	if m := exchangeReturned.FindStringSubmatch(sec); m != nil {
		cands = append(cands, m[1])
	}
	for _, c := range cands {
		if findStatus(c) != "" {
			return oneLine(c, maxDiag)
		}
	}
	if len(cands) > 0 {
		return oneLine(cands[0], maxDiag)
	}
	return ""
}

var exchangeReturned = regexp.MustCompile(`(?i)remote server returned '([^'\n]+)'`)

// statusNear returns a status code on the line that names addr or on the
// next three lines.
func statusNear(sec, addr string) string {
	lines := strings.Split(sec, "\n")
	for i, l := range lines {
		if !strings.Contains(strings.ToLower(l), addr) {
			continue
		}
		for j := i; j < len(lines) && j < i+4; j++ {
			if s := findStatus(lines[j]); s != "" {
				return s
			}
		}
	}
	return ""
}

// robotLocal reports whether addr is a mail system's own address, which a
// bounce names as its sender, never as a failed recipient.
func robotLocal(addr string) bool {
	switch squashedLocal(addr) {
	case "mailerdaemon", "postmaster", "maildaemon", "mdaemon", "noreply", "donotreply":
		return true
	}
	return false
}

// localPunct drops the punctuation that mail systems vary their names by
// ("mailer-daemon", "Mailer_Daemon", "post.master").
var localPunct = strings.NewReplacer("-", "", "_", "", ".", "")

// squashedLocal returns the local part of addr without localPunct's
// punctuation, "" when addr has no "@".
func squashedLocal(addr string) string {
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return ""
	}
	return localPunct.Replace(addr[:at])
}

// readText reads a plain-text bounce. form is the detected style ("text"
// when only the sender and wording said bounce).
func readText(texts []string, form string, exclude map[string]bool) *Report {
	r := &Report{Form: form}
	var secs []string
	for _, t := range texts {
		u := unquoted(t)
		secs = append(secs, section(u, asciiLower(u)))
	}
	all := strings.Join(secs, "\n\n")
	if len(all) > maxSection {
		all = strings.ToValidUTF8(all[:maxSection], "")
	}
	r.Recipients = textRecipients(all, exclude)
	reason := sectionReason(all)
	permanent := permanentText.MatchString(all)
	delayed := !permanent && delayedText.MatchString(all)
	if len(r.Recipients) == 0 {
		r.Recipients = append(r.Recipients, Recipient{Diagnostic: reason})
	}
	for i := range r.Recipients {
		rc := &r.Recipients[i]
		if strings.HasSuffix(rc.Diagnostic, ":") {
			rc.Diagnostic = "" // only a label ("because:"); the reason is further down
		}
		if rc.Diagnostic == "" || (findStatus(rc.Diagnostic) == "" && len(r.Recipients) == 1 && findStatus(reason) != "") {
			if reason != "" {
				rc.Diagnostic = reason
			}
		}
		rc.Status = findStatus(rc.Diagnostic)
		if rc.Status == "" && rc.Addr != "" {
			rc.Status = statusNear(all, rc.Addr)
		}
		if rc.Status == "" && len(r.Recipients) == 1 {
			rc.Status = findStatus(all)
		}
		switch {
		case rc.Action != "":
			// Under a list that says which (Sendmail's permanent and
			// transient sections).
		case permanent:
			rc.Action = "failed"
		case delayed, strings.HasPrefix(rc.Status, "4."):
			rc.Action = "delayed"
		default:
			rc.Action = "failed"
		}
	}
	return r
}

// asciiLower lowercases A-Z only, so that offsets in the result are
// offsets in s (strings.ToLower may change the length of non-ASCII text).
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
