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
//   - Content-Type multipart/report (RFC 6522: DSNs and MDNs): "delivery
//     report"; with report-type=feedback-report (RFC 5965, ARF): "abuse report".
//   - Return-Path: <> (the null reverse-path of bounces, RFC 5321 4.5.5):
//     "null sender"; a MAILER-DAEMON or postmaster Return-Path or Sender;
//     a From address of a mail system
//     (robotAddress: MAILER-DAEMON and postmaster also as "post_master" or
//     "Mailer_Daemon", Microsoft 365's system mailbox, no-reply addresses,
//     list managers such as LISTSERV, Sympa, Majordomo and the -owner,
//     -request, -bounces addresses of Mailman, VERP bounce addresses);
//     "From: <>" and "From: MAILER-DAEMON <>", which have no address;
//     and bounce generators' display names ("Mail Delivery Subsystem"),
//     also from an ordinary address: "mailer-daemon", "postmaster",
//     "no-reply sender", "list manager", "null sender", "mail service
//     notification".
//   - Precedence bulk, junk, list or auto_reply (RFC 3834 2): "precedence: bulk".
//   - List-Id (RFC 2919) or List-Unsubscribe (RFC 2369): "list-id", "list-unsubscribe".
//   - Fields that only autoresponders and mail systems set (autoFields):
//     X-Autoreply, X-Autorespond, X-Auto-Reply, X-QQ-AUTO-REPLY,
//     X-Failed-Recipients (Exim), X-MS-Exchange-Generated-Message-Source
//     (Exchange-generated mail: OOF, rules, resource booking, system
//     messages), X-MS-Exchange-Message-Is-Ndr, X-Loop, X-Cron-Env; an
//     X-Mailer naming an autoresponder; and mail a program sent through a
//     cloud mail service (espMade: Amazon SES, SendGrid, Mailgun,
//     Mandrill fields on mail that answers nothing and no mail client wrote).
//   - An out-of-office subject (outOfOfficeSubject): "Out of Office",
//     "Automatic reply:", "自动回复", "自動応答", "Abwesenheitsnotiz",
//     "Réponse automatique", the Outlook translations, "[Absence]",
//     "X is out of the office": "out of office".
//   - The fixed subjects of MTAs, list managers and helpdesk
//     acknowledgements (robotSubject): "Undelivered Mail Returned to
//     Sender", "failure notice", "Undeliverable: ...", "Your message to X
//     awaits moderator approval", "[Request received] ...", DMARC
//     aggregate reports (RFC 7489 7.2.1.1), Nagios and Icinga alerts:
//     "bounce subject", "list manager", "auto-acknowledgement", "dmarc
//     report", "monitoring".
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
//   - A cloud mail service's fields alone (X-SES-Outgoing, X-SG-EID, ...):
//     hosted mailboxes and helpdesk agents send people's mail through them.
//   - Role addresses people write from (support@, info@, abuse@,
//     hostmaster@, webmaster@) and subjects that merely contain words such
//     as "automatic", "delivery failed", "return" or "out of office".
func IsAutomatic(h mail.Header) string {
	// RFC 3834 5.1: auto-submitted-field.
	if v := fieldKeyword(h.Get("Auto-Submitted")); v != "" && v != "no" {
		return "auto-submitted: " + v
	}
	if t, params := parseParamValue(h.Get("Content-Type")); t == "multipart/report" {
		// RFC 5965 3: abuse reports (ARF) are report-type=feedback-report.
		if strings.EqualFold(params["report-type"], "feedback-report") {
			return "abuse report"
		}
		return "delivery report"
	}
	if rp := h.Values("Return-Path"); len(rp) > 0 {
		addr, null := parseReturnPath(rp[0])
		if null {
			return "null sender"
		}
		if r := robotAddress(addr); r == "mailer-daemon" || r == "postmaster" {
			return r
		}
	}
	if r := robotSender(h.Get("From")); r != "" {
		return r
	}
	// Only bounce senders count in Sender and Return-Path: mail services
	// put their bounce (VERP) addresses there on people's mail too, and a
	// calendar service its notification address on a person's invitation.
	if r := robotSender(h.Get("Sender")); r == "mailer-daemon" || r == "postmaster" {
		return r
	}
	switch v := fieldKeyword(h.Get("Precedence")); v {
	case "bulk", "junk", "list", "auto_reply", "auto-reply":
		return "precedence: " + v
	}
	if h.Has("List-Id") {
		return "list-id"
	}
	if h.Has("List-Unsubscribe") {
		return "list-unsubscribe"
	}
	if r := robotFields(h); r != "" {
		return r
	}
	subj, _ := decodeHeaderText(h.Get("Subject"))
	if outOfOfficeSubject(subj) {
		return "out of office"
	}
	if r := robotSubject(subj); r != "" {
		return r
	}
	return ""
}

// autoFields are header fields that autoresponders, bounce generators and
// mail systems put only on the mail they make, with the reason reported.
// A value of "no", "false" or "0" does not count.
var autoFields = []struct{ key, reason string }{
	{"X-Autoreply", "x-autoreply"},
	{"X-Autorespond", "x-autorespond"},
	{"X-Auto-Reply", "x-autoreply"},
	{"X-Autoreply-From", "x-autoreply"},
	{"X-Mail-Autoreply", "x-autoreply"},
	{"X-Autogenerated", "x-autogenerated"},
	{"X-Qq-Auto-Reply", "x-qq-auto-reply"},
	{"X-Vacation", "x-vacation"},
	{"X-Failed-Recipients", "x-failed-recipients"},                   // Exim bounces
	{"X-Ms-Exchange-Generated-Message-Source", "exchange generated"}, // OOF, rules, system messages
	{"X-Ms-Exchange-Message-Is-Ndr", "exchange ndr"},
	{"X-Loop", "x-loop"}, // loop guard of procmail, ticket systems
	{"X-Cron-Env", "cron"},
	{"X-Amazon-Mail-Relay-Type", "mail service notification"}, // Amazon's own notifications
}

// espFields mark mail sent through a cloud mail service (Amazon SES,
// SendGrid, Mailgun, Mandrill, Mailchimp). People's mail goes through them
// too (hosted mailboxes, helpdesks), so see espMade.
var espFields = []string{
	"X-Ses-Outgoing", "X-Sg-Eid", "X-Sg-Id", "X-Mailgun-Sid", "X-Mailgun-Tag", "X-Mailgun-Variables",
	"X-Mandrill-User", "X-Mc-User", "X-Mailchimp-Campaign",
}

// robotFields checks the fields of autoFields, the X-Mailer of
// autoresponders and the cloud mail service fields.
func robotFields(h mail.Header) string {
	for _, f := range autoFields {
		if !h.Has(f.key) {
			continue
		}
		switch fieldKeyword(h.Get(f.key)) {
		case "no", "false", "0":
		default:
			return f.reason
		}
	}
	for _, k := range []string{"X-Mailer", "User-Agent"} {
		v := strings.ToLower(h.Get(k))
		for _, w := range []string{"autorespond", "auto-respond", "autoreply", "auto-reply", "auto reply", "vacation"} {
			if strings.Contains(v, w) {
				return "x-mailer: autoresponder"
			}
		}
	}
	if espMade(h) {
		return "mail service notification"
	}
	return ""
}

// espMade reports mail that a program sent through a cloud mail service:
// a field of espFields, on mail that answers nothing (no In-Reply-To or
// References) and that no mail program wrote (no X-Mailer, User-Agent or
// Outlook's Thread-Index). A person's mail through such a service (a
// hosted mailbox, a helpdesk agent's answer) has one of those.
func espMade(h mail.Header) bool {
	esp := false
	for _, k := range espFields {
		if h.Has(k) {
			esp = true
			break
		}
	}
	if !esp {
		return false
	}
	for _, k := range []string{"In-Reply-To", "References", "X-Mailer", "User-Agent", "Thread-Index"} {
		if h.Has(k) {
			return false
		}
	}
	return true
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

// robotSender recognises the sender field of mail made by a mail system:
// "From: <>" (a null address), the addresses of robotAddress, and the
// display names that bounce generators use ("Mail Delivery Subsystem",
// also from an ordinary address), also when the field has no address at
// all ("From: MAILER-DAEMON <>", "From: MAILER-DAEMON").
func robotSender(v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	as := parseAddressList(v)
	if len(as) > 0 {
		if r := robotAddress(as[0].Addr); r != "" {
			return r
		}
		return robotName(as[0].Name)
	}
	name := v
	if lt := strings.IndexByte(v, '<'); lt >= 0 {
		inner := v[lt+1:]
		if gt := strings.IndexByte(inner, '>'); gt >= 0 {
			inner = inner[:gt]
		}
		if strings.TrimSpace(inner) == "" && strings.TrimSpace(v[:lt]) == "" {
			return "null sender"
		}
		name = v[:lt]
	}
	name = strings.Trim(strings.TrimSpace(name), `"'`)
	if r := robotAddress(strings.ToLower(name)); r != "" {
		return r
	}
	if r := robotName(cleanDisplayName(name, nil)); r != "" {
		return r
	}
	if strings.Contains(v, "<>") {
		return "null sender"
	}
	return ""
}

// robotAddress recognises the local part of an address that only
// software sends from (RFC 2142 names the mailbox roles).
func robotAddress(addr string) string {
	local := strings.ToLower(addr)
	if i := strings.LastIndexByte(local, '@'); i >= 0 {
		local = local[:i]
	}
	if local == "" {
		return ""
	}
	// Letters only: "Mailer_Daemon", "post.master", "no-reply".
	letters := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' {
			return r
		}
		return -1
	}, local)
	switch letters {
	case "mailerdaemon", "maildaemon", "mailerdeamon":
		return "mailer-daemon"
	case "postmaster", "postmast":
		return "postmaster"
	case "mdaemon":
		return "mailer-daemon"
	case "listserv", "majordomo", "sympa", "mailman", "listproc", "ecartis", "lyris", "listmanager":
		return "list manager"
	case "calendarnotification", "quarantine", "msonlineservicesteam":
		// Google Calendar's notifications, Microsoft 365's quarantine and
		// service notices.
		return "mail service notification"
	}
	// Microsoft 365's system mailbox that sends NDRs and quarantine
	// notices: "MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e".
	if strings.HasPrefix(local, "microsoftexchange") && len(local) > len("microsoftexchange")+16 {
		return "mailer-daemon"
	}
	for _, w := range []string{"noreply", "donotreply", "donotrespond", "noresponse"} {
		if strings.Contains(letters, w) {
			return "no-reply sender"
		}
	}
	// Mailman (list-bounces, list-owner, list-request), Majordomo and
	// Sympa (owner-list, list-request), VERP bounce addresses
	// (bounce-123@, bounces+abc@).
	base := local
	if i := strings.IndexByte(base, '+'); i >= 0 {
		base = base[:i]
	}
	for _, suf := range []string{"-bounces", "-bounce", "-owner", "-request", "-confirm"} {
		if strings.HasSuffix(base, suf) && len(base) > len(suf) {
			return "list manager"
		}
	}
	if strings.HasPrefix(base, "owner-") || strings.HasPrefix(base, "bounce-") || strings.HasPrefix(base, "bounces-") ||
		base == "bounce" || base == "bounces" || strings.HasPrefix(base, "bounce.") {
		return "list manager"
	}
	return ""
}

// robotNames are display names of bounce generators and mail systems
// (lowercase, single spaces).
var robotNames = map[string]string{
	"mail delivery subsystem": "mailer-daemon", "mail delivery system": "mailer-daemon",
	"mail delivery service": "mailer-daemon", "mail delivery": "mailer-daemon",
	"mailer-daemon": "mailer-daemon", "mailer daemon": "mailer-daemon", "mail administrator": "mailer-daemon",
	"mail system": "mailer-daemon", "mail system administrator": "mailer-daemon",
	"delivery status notification": "mailer-daemon", "microsoft outlook": "mailer-daemon",
	"postmaster": "postmaster", "post master": "postmaster", "post_master": "postmaster",
	"系统退信": "mailer-daemon", "退信服务": "mailer-daemon", "邮件系统": "mailer-daemon",
}

// robotNamePrefixes start the display names that bounce generators make
// up from their host name ("Mail Delivery System at mx1.customer.test",
// "Courier mail server at ...", "MDaemon at ...").
var robotNamePrefixes = []string{
	"mail delivery subsystem ", "mail delivery system ", "mail delivery service ",
	"mailer-daemon ", "mailer daemon ", "courier mail server at ", "mdaemon at ",
}

// robotName recognises the display name of a bounce generator.
func robotName(name string) string {
	n := strings.Join(strings.Fields(strings.ToLower(name)), " ")
	if r := robotNames[n]; r != "" {
		return r
	}
	for _, p := range robotNamePrefixes {
		if strings.HasPrefix(n, p) {
			return "mailer-daemon"
		}
	}
	return ""
}

// robotSubjects are the fixed subjects that MTAs, list managers and
// helpdesk auto-acknowledgements put on the mail they make (lowercase).
// A phrase ending in ":" or "]" or "*" (dropped) starts the subject;
// else it is the whole subject. None is words a person starts a subject
// with.
var robotSubjects = []struct{ phrase, reason string }{
	{"undelivered mail returned to sender", "bounce subject"},               // Postfix
	{"delayed mail (still being retried)", "bounce subject"},                // Postfix
	{"returned mail:", "bounce subject"},                                    // Sendmail: "Returned mail: see transcript for details", "...: User unknown"
	{"warning: could not send message for past *", "bounce subject"},        // Sendmail delay
	{"mail delivery failed: returning message to sender", "bounce subject"}, // Exim
	{"failure notice", "bounce subject"},                                    // qmail, Yahoo
	{"delivery status notification (failure)", "bounce subject"},            // Gmail, Exchange
	{"delivery status notification (delay)", "bounce subject"},
	{"undeliverable:", "bounce subject"}, // Exchange
	{"non remis :", "bounce subject"},    // Exchange, French
	{"non remis:", "bounce subject"},     //
	{"unzustellbar:", "bounce subject"},  // Exchange, German
	{"无法送达:", "bounce subject"},          // Exchange, Chinese
	{"无法送达：", "bounce subject"},          //
	{"nondeliverable mail", "bounce subject"},
	{"undeliverable mail", "bounce subject"},
	{"undeliverable message", "bounce subject"},
	{"delivery notification: delivery has failed", "bounce subject"}, // Lotus Notes
	{"delivery status notification (success)", "bounce subject"},
	{"delivery status notification (relay)", "bounce subject"},
	{"mail system error - returned mail", "bounce subject"},
	{"系统退信*", "bounce subject"}, // QQ, NetEase
	{"majordomo results*", "list manager"},
	{"mailman results*", "list manager"},
	{"listserv command results*", "list manager"},
	{"output of your job*", "list manager"},        // LISTSERV
	{"results of your commands*", "list manager"},  // Sympa
	{"[request received]", "auto-acknowledgement"}, // Zendesk
}

// robotSubject recognises the subjects of robotSubjects, Mailman's "Your
// message to X awaits moderator approval" and "Welcome to the "X" mailing
// list", Exim's "Warning: message X delayed N hours", Nagios' and Icinga's
// "** PROBLEM Service Alert: ...", and DMARC aggregate reports' "Report
// Domain: X Submitter: Y Report-ID: Z".
func robotSubject(subj string) string {
	s := strings.ToLower(strings.Join(strings.Fields(subj), " "))
	for _, r := range robotSubjects {
		p := r.phrase
		if strings.HasSuffix(p, ":") || strings.HasSuffix(p, "]") || strings.HasSuffix(p, "*") {
			if strings.HasPrefix(s, strings.TrimSuffix(p, "*")) {
				return r.reason
			}
		} else if s == p {
			return r.reason
		}
	}
	switch {
	case strings.HasPrefix(s, "your message to ") && (strings.HasSuffix(s, "awaits moderator approval") || strings.Contains(s, " has been rejected")):
		return "list manager"
	case strings.HasPrefix(s, "welcome to the ") && strings.HasSuffix(s, " mailing list"):
		return "list manager"
	case strings.HasPrefix(s, "warning: message ") && strings.Contains(s, " delayed "):
		return "bounce subject"
	case strings.HasPrefix(s, "** ") && (strings.Contains(s, " service alert: ") || strings.Contains(s, " host alert: ")):
		// Nagios' and Icinga's default notification subjects: "** PROBLEM
		// Service Alert: web01/HTTP is CRITICAL **", sent through mail(1)
		// with no other mark.
		return "monitoring"
	case strings.Contains(s, "report domain: ") && strings.Contains(s, " submitter: "):
		// RFC 7489 7.2.1.1: "Report Domain: X Submitter: Y Report-ID: Z",
		// the subject of DMARC aggregate reports (Microsoft prefixes
		// "[Preview] ").
		return "dmarc report"
	}
	return ""
}

// oooPrefixes start out-of-office subjects (lowercase): the English
// forms, and those Outlook, Exchange, Gmail, Apple Mail, Thunderbird, QQ,
// NetEase and Japanese and Korean clients write in their languages.
var oooPrefixes = []string{
	"automatic reply", "auto reply", "auto-reply", "autoreply", "auto response", "auto-response",
	"autoresponse", "automated reply", "automated response", "automatic response", "out of the office",
	"away from the office", "vacation reply",
	// Chinese (simplified, traditional)
	"自动回复", "自动答复", "自動回覆", "自動回復", "自动应答", "不在办公室", "自动回信", "自動回信", "自動答覆",
	"系统自动回复", "系统自动回信", "系統自動回覆",
	// Japanese, Korean
	"自動応答", "自動返信", "不在通知", "不在のお知らせ", "자동 회신", "자동회신", "자동 응답", "부재중",
	// German, Dutch
	"automatische antwort", "abwesenheitsnotiz", "automatische abwesenheitsnotiz",
	"automatisch antwoord", "afwezig", "niet aanwezig", "afwezigheidsbericht",
	// French, Spanish, Italian, Portuguese
	"réponse automatique", "reponse automatique", "absent du bureau", "message d'absence",
	"respuesta automática", "respuesta automatica", "fuera de la oficina", "fuera de oficina",
	"risposta automatica", "fuori sede", "fuori ufficio",
	"resposta automática", "resposta automatica", "ausente do escritório", "fora do escritório",
	// Scandinavian, Finnish, Polish, Czech, Hungarian, Turkish, Greek, Russian
	"automatiskt svar", "automatisk svar", "autosvar", "frånvaro", "fraværende", "fravær", "ikke til stede",
	"automaattinen vastaus",
	"odpowiedź automatyczna", "automatyczna odpowiedź", "autoodpowiedź",
	"automatická odpověď", "nepřítomnost", "automatikus válasz", "házon kívül",
	"otomatik yanıt", "otomatik cevap", "ofis dışında",
	"αυτόματη απάντηση", "εκτός γραφείου",
	// The other Outlook translations of "Automatic reply"
	"automatski odgovor", "samodejni odgovor", "automatická odpoveď", "răspuns automat", "automātiska atbilde",
	"automatinis atsakymas", "automaatne vastus", "автоматичен отговор", "автоматична відповідь", "sjálfvirkt svar",
	"resposta automàtica", "erantzun automatikoa", "balasan otomatis", "trả lời tự động", "ตอบกลับอัตโนมัติ",
	"رد تلقائي", "الرد التلقائي", "תשובה אוטומטית", "स्वचालित जवाब", "automatisch beantwortet",
	"автоматический ответ", "автоответ", "нет на месте", "вне офиса", "в отпуске",
}

// oooBracketed are words that mark an out-of-office subject only in
// brackets ("[Absence] ...", "【不在】..."): followed by a colon they are
// also what people write about ("Absence: my sick note").
var oooBracketed = []string{
	"不在", "休假", "外出", "absence", "absent", "vacation", "abwesend", "abwesenheit", "ausente", "assente",
	"poissa", "nieobecność", "out of office", "ooo",
}

// outOfOfficeSubject reports a subject that starts like an out-of-office
// reply. A prefix must be followed by a colon (or end the subject, or
// close the bracket it was opened in: "[Auto-Reply] printer"), so that
// "Auto reply rules do not work" or "Absence de connexion" from a customer
// is not one. "Out of Office" may also be followed by "reply",
// "autoreply" and the like.
func outOfOfficeSubject(s string) bool {
	s = strings.ToLower(strings.Join(strings.Fields(s), " "))
	bracket := strings.HasPrefix(s, "[") || strings.HasPrefix(s, "【")
	s = strings.TrimLeft(s, "[【 ")
	colonNext := func(rest string) bool {
		if bracket && (strings.HasPrefix(rest, "]") || strings.HasPrefix(rest, "】")) {
			return true
		}
		rest = strings.TrimLeft(rest, " \t")
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
	// Lotus Notes and others: "Alice Smith is out of the office.", "AUTO:
	// Alice Smith is out of the office (returning 07.12.2026)". A bare
	// "Auto:" is not enough: people write it ("Auto: the car park
	// barrier"; German, Dutch and French for car).
	t, _ := strings.CutPrefix(s, "auto: ")
	if i := strings.LastIndex(t, " ("); i > 0 && strings.HasSuffix(t, ")") {
		t = t[:i]
	}
	t = strings.TrimRight(t, ". ")
	for _, suf := range []string{" is out of the office", " is currently out of the office", " ist außer haus",
		" ist nicht im büro", " est absent du bureau", " est absente du bureau", " 不在办公室"} {
		if strings.HasSuffix(t, suf) && !strings.HasPrefix(t, "re:") && !strings.HasPrefix(t, "fw") {
			return true
		}
	}
	if bracket {
		for _, p := range oooBracketed {
			if rest, ok := strings.CutPrefix(s, p); ok && (strings.HasPrefix(rest, "]") || strings.HasPrefix(rest, "】")) {
				return true
			}
		}
	}
	return false
}
