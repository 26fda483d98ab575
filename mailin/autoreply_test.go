package mailin

import (
	"strings"
	"testing"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-message/textproto"
)

func TestAutoFromFiles(t *testing.T) {
	tests := []struct{ file, auto string }{
		{"auto-submitted.eml", "auto-submitted: auto-replied"},
		{"auto-submitted-generated.eml", "auto-submitted: auto-generated"},
		{"auto-precedence-bulk.eml", "precedence: bulk"},
		{"auto-list-id.eml", "list-id"},
		{"auto-list-unsubscribe.eml", "list-unsubscribe"},
		{"auto-null-sender.eml", "null sender"},
		{"auto-mailer-daemon.eml", "mailer-daemon"},
		{"auto-dsn-report.eml", "delivery report"},
		{"auto-x-autoreply.eml", "x-autoreply"},
		{"auto-x-loop.eml", "x-loop"},
		{"auto-exchange.eml", "exchange generated"},
		{"auto-ooo-en.eml", "out of office"},
		{"auto-ooo-zh.eml", "out of office"},
		{"auto-ooo-zh-gbk.eml", "out of office"},
		{"person-auto-submitted-no.eml", ""},
		{"person-x-auto-response-suppress.eml", ""},
		{"person-auto-words.eml", ""},
		{"zh-gbk-base64.eml", ""},
		{"alternative.eml", ""},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".eml"), func(t *testing.T) {
			m := parseTestFile(t, tt.file)
			parseWantEq(t, "Auto", m.Auto, tt.auto)
			parseWantClean(t, m)
		})
	}
	m := parseTestFile(t, "auto-null-sender.eml")
	parseWantEq(t, "NullSender", m.NullSender, true)
	parseWantEq(t, "Sender", m.Sender, "")
}

// autoHeader builds a header from "Key: value" lines.
func autoHeader(lines ...string) mail.Header {
	var h textproto.Header
	for i := len(lines) - 1; i >= 0; i-- {
		k, v, _ := strings.Cut(lines[i], ":")
		h.Add(k, strings.TrimSpace(v))
	}
	return mail.Header{Header: message.Header{Header: h}}
}

func TestIsAutomatic(t *testing.T) {
	const from = "From: Alice <alice@customer.test>"
	tests := []struct {
		name  string
		lines []string
		want  string
	}{
		{"person", []string{from, "Subject: printer offline"}, ""},
		{"auto-submitted no", []string{from, "Auto-Submitted: no"}, ""},
		{"auto-submitted NO with comment", []string{from, "Auto-Submitted: NO (human)"}, ""},
		{"auto-submitted replied", []string{from, "Auto-Submitted: auto-replied"}, "auto-submitted: auto-replied"},
		{"auto-submitted generated params", []string{from, "Auto-Submitted: Auto-Generated; owner-email=x@customer.test"}, "auto-submitted: auto-generated"},
		{"auto-submitted unknown keyword", []string{from, "Auto-Submitted: auto-notified"}, "auto-submitted: auto-notified"},
		{"auto-submitted no but list", []string{from, "Auto-Submitted: no", "List-Id: <l.customer.test>"}, "list-id"},
		{"precedence bulk", []string{from, "Precedence: bulk"}, "precedence: bulk"},
		{"precedence junk", []string{from, "Precedence: JUNK"}, "precedence: junk"},
		{"precedence list", []string{from, "Precedence: list"}, "precedence: list"},
		{"precedence auto_reply", []string{from, "Precedence: auto_reply"}, "precedence: auto_reply"},
		{"precedence first-class", []string{from, "Precedence: first-class"}, ""},
		{"list-id", []string{from, "List-Id: <users.customer.test>"}, "list-id"},
		{"list-unsubscribe", []string{from, "List-Unsubscribe: <https://customer.test/u>"}, "list-unsubscribe"},
		{"null sender", []string{"Return-Path: <>", from}, "null sender"},
		{"null sender spaces", []string{"Return-Path: < >", from}, "null sender"},
		{"return path set", []string{"Return-Path: <alice@customer.test>", from}, ""},
		{"mailer-daemon", []string{"From: MAILER-DAEMON@mx.customer.test"}, "mailer-daemon"},
		{"mailer-daemon bare", []string{"From: MAILER-DAEMON"}, "mailer-daemon"},
		{"postmaster", []string{"From: Postmaster <postmaster@customer.test>", "Subject: Undeliverable: hello"}, "postmaster"},
		{"multipart/report", []string{from, "Content-Type: multipart/report; report-type=delivery-status; boundary=x"}, "delivery report"},
		{"mdn", []string{from, "Content-Type: Multipart/Report; report-type=disposition-notification; boundary=x"}, "delivery report"},
		{"x-autoreply", []string{from, "X-Autoreply: yes"}, "x-autoreply"},
		{"x-autorespond", []string{from, "X-Autorespond: 1"}, "x-autorespond"},
		{"x-autoreply no", []string{from, "X-Autoreply: no"}, ""},
		{"exchange generated", []string{from, "X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent"}, "exchange generated"},
		{"exchange rules loop alone", []string{from, "X-MS-Exchange-Inbox-Rules-Loop: alice@customer.test"}, ""},
		{"x-loop", []string{from, "X-Loop: support@example.com"}, "x-loop"},
		{"x-auto-response-suppress all", []string{from, "X-Auto-Response-Suppress: All"}, ""},
		{"x-auto-response-suppress oof", []string{from, "X-Auto-Response-Suppress: OOF, AutoReply"}, ""},
		{"ooo en", []string{from, "Subject: Out of Office: printer"}, "out of office"},
		{"ooo en autoreply", []string{from, "Subject: Out of Office AutoReply: printer"}, "out of office"},
		{"ooo en alone", []string{from, "Subject: Out of office"}, "out of office"},
		{"ooo automatic reply", []string{from, "Subject: Automatic reply: printer"}, "out of office"},
		{"ooo auto", []string{from, "Subject: AUTO: Alice is out of the office"}, "out of office"},
		{"ooo zh", []string{from, "Subject: 自动回复：打印机"}, "out of office"},
		{"ooo zh answer", []string{from, "Subject: 自动答复: 打印机"}, "out of office"},
		{"ooo zh encoded", []string{from, "Subject: =?UTF-8?B?6Ieq5Yqo5Zue5aSNOiDmiZPljbDmnLo=?="}, "out of office"},
		{"ooo de", []string{from, "Subject: Automatische Antwort: Drucker"}, "out of office"},
		{"not ooo: out of office hours", []string{from, "Subject: Out of office hours support"}, ""},
		{"not ooo: auto reply question", []string{from, "Subject: Auto reply rules do not work"}, ""},
		{"not ooo: zh question", []string{from, "Subject: 自动回复功能怎么设置"}, ""},
		{"not ooo: automobile", []string{from, "Subject: Automobile fleet report"}, ""},
		{"not ooo: re", []string{from, "Subject: Re: Automatic reply: printer"}, ""},
		{"no header", nil, ""},
		{"from mailer-daemon without address", []string{"From: MAILER-DAEMON <>", "Subject: failure"}, "mailer-daemon"},
		{"from null", []string{"From: <>"}, "null sender"},
		{"post_master", []string{"From: post_master@customer.test"}, "postmaster"},
		{"delivery subsystem name", []string{"From: Mail Delivery Subsystem <ops@customer.test>"}, "mailer-daemon"},
		{"no-reply", []string{"From: Portal <no-reply@customer.test>"}, "no-reply sender"},
		{"mailman owner", []string{"From: users-owner@lists.customer.test"}, "list manager"},
		{"sympa owner prefix", []string{"From: owner-users@lists.customer.test"}, "list manager"},
		{"listserv", []string{"From: LISTSERV@LISTS.CUSTOMER.TEST"}, "list manager"},
		{"arf", []string{from, "Content-Type: multipart/report; report-type=feedback-report; boundary=x"}, "abuse report"},
		{"qq auto reply", []string{from, "X-QQ-AUTO-REPLY: true"}, "x-qq-auto-reply"},
		{"exim failed recipients", []string{from, "X-Failed-Recipients: bob@customer.test"}, "x-failed-recipients"},
		{"autoresponder mailer", []string{from, "X-Mailer: MDaemon AutoResponder"}, "x-mailer: autoresponder"},
		{"ses program mail", []string{"From: Orders <orders@customer.test>", "X-SES-Outgoing: 2024.06.21-54.240.8.31"}, "mail service notification"},
		{"ses person reply", []string{from, "X-SES-Outgoing: 2024.06.21-54.240.8.31", "In-Reply-To: <a@example.com>"}, ""},
		{"ses person client", []string{from, "X-SES-Outgoing: 2024.06.21-54.240.8.31", "X-Mailer: Amazon WorkMail"}, ""},
		{"ooo ja", []string{from, "Subject: 自動返信: 件名"}, "out of office"},
		{"ooo bracket absence", []string{from, "Subject: [Absence] Re: printer"}, "out of office"},
		{"ooo lotus", []string{from, "Subject: Alice Smith is out of the office."}, "out of office"},
		{"bounce subject postfix", []string{from, "Subject: Undelivered Mail Returned to Sender"}, "bounce subject"},
		{"mailman held", []string{from, "Subject: Your message to Users awaits moderator approval"}, "list manager"},
		{"not: support role", []string{"From: Support <support@customer.test>", "Subject: help"}, ""},
		{"not: abuse role", []string{"From: Abuse Desk <abuse@isp.test>", "Subject: complaint 4471"}, ""},
		{"not: absence colon", []string{from, "Subject: Absence: sick note"}, ""},
		{"not: vacation colon", []string{from, "Subject: Vacation: pause my plan?"}, ""},
		{"not: failure notice words", []string{from, "Subject: Failure notice for pump 3"}, ""},
		{"not: delivery failed words", []string{from, "Subject: Delivery failed for order 1123"}, ""},
		{"not: fwd of a bounce", []string{from, "Subject: Fwd: Undeliverable: invoice"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parseWantEq(t, "IsAutomatic", IsAutomatic(autoHeader(tt.lines...)), tt.want)
		})
	}
}
