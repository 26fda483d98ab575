package mailin

import (
	"strings"

	"github.com/emersion/go-message/mail"
)

// IsAutomatic returns the Auto reason for a message header: "" when a
// person wrote the message, else a short reason why it must never get an
// automatic reply and never change a case. Parse sets Message.Auto with it.
//
// It follows RFC 3834 and common practice, in this order:
//
//   - Auto-Submitted (RFC 3834 5) with any value but "no" (case-insensitive,
//     parameters and comments ignored): "auto-submitted: auto-replied".
//     "Auto-Submitted: no" means a person; the other checks still apply.
//   - Content-Type multipart/report (RFC 6522: DSNs and MDNs): "delivery report".
//   - Return-Path: <> (the null reverse-path of bounces, RFC 5321 4.5.5): "null sender".
//   - From local part MAILER-DAEMON or postmaster: "mailer-daemon", "postmaster".
//   - Precedence bulk, junk, list or auto_reply (RFC 3834 2): "precedence: bulk".
//   - List-Id (RFC 2919) or List-Unsubscribe (RFC 2369): "list-id", "list-unsubscribe".
//   - X-Autoreply, X-Autorespond (set by many autoresponders): "x-autoreply", "x-autorespond".
//   - X-MS-Exchange-Generated-Message-Source (Exchange-generated mail:
//     OOF, rules, system messages): "exchange generated".
//   - X-Loop (loop guard of procmail, ticket systems): "x-loop".
//   - An out-of-office subject prefix followed by a colon (or nothing):
//     "Out of Office", "Automatic reply:", "Auto:", "自动回复", "自动答复",
//     and the Outlook translations: "out of office".
//
// Deliberately not counted:
//
//   - X-Auto-Response-Suppress (e.g. All or OOF). Microsoft defines it as a
//     request to the *recipient* ("do not send me automatic responses"),
//     not as a mark on automatic mail: Outlook and Exchange put it on
//     ordinary mail people write (meeting requests, replies from some
//     clients, mail sent through many CRM tools), and helpdeskd's own
//     outgoing mail carries it (SPEC §7). Treating it as automatic would
//     silently keep real customers' mail from opening or changing cases.
//   - X-MS-Exchange-Inbox-Rules-Loop. Exchange stamps it on mail that an
//     inbox rule forwarded or redirected, which is usually a person's mail
//     passed on (a customer forwarding a mailbox to support@). Rule-made
//     replies also carry Auto-Submitted or X-MS-Exchange-Generated-Message-
//     Source, and automatic replies are rate-limited per sender.
func IsAutomatic(h mail.Header) string {
	// RFC 3834 5.1: auto-submitted-field.
	if v := fieldKeyword(h.Get("Auto-Submitted")); v != "" && v != "no" {
		return "auto-submitted: " + v
	}
	if t := fieldKeyword(h.Get("Content-Type")); t == "multipart/report" {
		return "delivery report"
	}
	if rp := h.Values("Return-Path"); len(rp) > 0 {
		if _, null := parseReturnPath(rp[0]); null {
			return "null sender"
		}
	}
	if r := daemonSender(h.Get("From")); r != "" {
		return r
	}
	switch v := fieldKeyword(h.Get("Precedence")); v {
	case "bulk", "junk", "list", "auto_reply":
		return "precedence: " + v
	}
	if h.Has("List-Id") {
		return "list-id"
	}
	if h.Has("List-Unsubscribe") {
		return "list-unsubscribe"
	}
	for _, k := range []string{"X-Autoreply", "X-Autorespond"} {
		if h.Has(k) {
			switch fieldKeyword(h.Get(k)) {
			case "no", "false", "0":
			default:
				return strings.ToLower(k)
			}
		}
	}
	if h.Has("X-Ms-Exchange-Generated-Message-Source") {
		return "exchange generated"
	}
	if h.Has("X-Loop") {
		return "x-loop"
	}
	subj, _ := decodeHeaderText(h.Get("Subject"))
	if outOfOfficeSubject(subj) {
		return "out of office"
	}
	return ""
}

// fieldKeyword returns the lowercased first word of a structured field
// value, without parameters or comments.
func fieldKeyword(v string) string {
	v = strings.ToLower(strings.TrimSpace(v))
	if i := strings.IndexAny(v, "; \t("); i >= 0 {
		v = v[:i]
	}
	return strings.Trim(v, `"`)
}

// daemonSender recognises bounce senders by the From local part.
func daemonSender(from string) string {
	as := parseAddressList(from)
	if len(as) == 0 {
		// "From: MAILER-DAEMON" without a domain.
		as = []Address{{Addr: strings.ToLower(strings.TrimSpace(from))}}
	}
	local := as[0].Addr
	if i := strings.LastIndexByte(local, '@'); i >= 0 {
		local = local[:i]
	}
	switch local {
	case "mailer-daemon", "mailer_daemon", "mailerdaemon":
		return "mailer-daemon"
	case "postmaster":
		return "postmaster"
	}
	return ""
}

// oooPrefixes start out-of-office subjects (lowercase).
var oooPrefixes = []string{
	"automatic reply", "auto reply", "auto-reply", "autoreply", "auto response",
	"auto-response", "autoresponse", "auto",
	"自动回复", "自动答复", "自動回覆", "自動回復", "自動応答",
	"automatische antwort", "réponse automatique", "respuesta automática",
	"risposta automatica", "resposta automática", "automatisch antwoord",
}

// outOfOfficeSubject reports a subject that starts like an out-of-office
// reply. A prefix must be followed by a colon (or end the subject), so
// that "Auto reply rules do not work" from a customer is not one.
// "Out of Office" may also be followed by "reply", "autoreply" and the like.
func outOfOfficeSubject(s string) bool {
	s = strings.ToLower(strings.TrimSpace(s))
	s = strings.TrimLeft(s, "[")
	colonNext := func(rest string) bool {
		rest = strings.TrimLeft(rest, " \t]")
		return rest == "" || strings.HasPrefix(rest, ":") || strings.HasPrefix(rest, "：")
	}
	if rest, ok := strings.CutPrefix(s, "out of office"); ok {
		if colonNext(rest) {
			return true
		}
		rest = strings.TrimLeft(rest, " \t-")
		for _, w := range []string{"autoreply", "auto reply", "auto-reply", "reply", "notification", "notice", "("} {
			if strings.HasPrefix(rest, w) {
				return true
			}
		}
		return false
	}
	for _, p := range oooPrefixes {
		if rest, ok := strings.CutPrefix(s, p); ok && colonNext(rest) {
			return true
		}
	}
	return false
}
