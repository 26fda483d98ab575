package replytext

import (
	"strings"
	"testing"
)

func TestStrip(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"blank lines only", "\n \n\t\n", ""},
		{"no quote", "Hi,\n\nDone.\n\nBob", "Hi,\n\nDone.\n\nBob"},
		{"crlf", "Hi,\r\n\r\nDone.\r\n", "Hi,\n\nDone."},
		{"lone cr", "Hi,\rDone.", "Hi,\nDone."},
		{"trims outer blank lines only", "\n\n  indented first\nlast  \n\n", "  indented first\nlast  "},

		{"outlook original message", "Fixed.\n\n-----Original Message-----\nFrom: A\nSent: B\nSubject: C\n\nold", "Fixed."},
		{"outlook express original message", "Fixed.\n----- Original Message -----\nFrom: A", "Fixed."},
		{"thunderbird original message", "Fixed.\n-------- Original Message --------\nSubject: C", "Fixed."},
		{"thunderbird forwarded", "FYI\n-------- Forwarded Message --------\nSubject: C", "FYI"},
		{"gmail forwarded", "FYI\n---------- Forwarded message ---------\nFrom: A", "FYI"},
		{"apple forwarded", "FYI\n\nBegin forwarded message:\n\nFrom: A", "FYI"},
		{"outlook zh", "好的\n-----原始邮件-----\n发件人: A", "好的"},
		{"thunderbird zh", "好的\n-------- 原始信息 --------\n主题: C", "好的"},
		{"foxmail", "好的\n------------------ 原始邮件 ------------------\n发件人: A", "好的"},
		{"qq nbsp", "OK\n------------------&nbsp;Original&nbsp;------------------\nFrom: A", "OK"},
		{"qq no-break space", "OK\n------------------\u00a0Original\u00a0------------------\nFrom: A", "OK"},
		{"netease zh", "好的\n---- 回复的原邮件 ----\n| 发件人 | A |", "好的"},
		{"netease en", "OK\n---- Replied Message ----\n| From | A |", "OK"},

		{"header block", "Done.\n\nFrom: Alice <alice@acme.test>\nSent: Monday, November 23, 2026 10:00 AM\nTo: support@example.com\nSubject: lag\n\nold", "Done."},
		{"header block date", "Done.\nFrom: Alice\nDate: Mon, 23 Nov 2026 10:00\nTo: Bob\nSubject: lag", "Done."},
		{"header block wrapped to", "Done.\nFrom: Alice\nSent: 23 November 2026 10:00\nTo: Bob <bob@example.com>;\n  Carol <carol@example.com>\nSubject: lag", "Done."},
		{"header block bold", "Done.\n*From:* Alice\n*Sent:* Monday, November 23, 2026 10:00 AM\n*Subject:* lag", "Done."},
		{"header block zh", "好的\n\n发件人: 王丽\n发送时间: 2026年11月23日\n收件人: support\n主题: 延迟", "好的"},
		{"header block zh full-width", "好的\n发件人：王丽\n发送时间：2026年11月23日\n主题：延迟", "好的"},
		{"header block zh-tw", "好的\n寄件者: 王麗\n寄件日期: 2026年11月23日\n主旨: 延遲", "好的"},
		{"underscore rule", "Done.\n________________________________\nFrom: A\nSent: 23 November 2026\nSubject: C", "Done."},
		{"underscore rule alone kept", "Done.\n________________________________\nBob", "Done.\n________________________________\nBob"},

		{"from in a sentence kept", "Hi,\nthe mail came From: the old server.\nBob", "Hi,\nthe mail came From: the old server.\nBob"},
		{"isolated from line kept", "From: me\nThanks!", "From: me\nThanks!"},
		{"from and to without sent kept", "From: Bob\nTo: ops\nSubject: x\nAll good.", "From: Bob\nTo: ops\nSubject: x\nAll good."},
		{"header keys not contiguous kept", "From: me\n\nSent: yesterday\nSubject: none", "From: me\n\nSent: yesterday\nSubject: none"},
		{"dashes without label kept", "Done.\n-----\nBob", "Done.\n-----\nBob"},

		{"gmail attribution", "Done.\n\nOn Mon, Nov 23, 2026 at 10:00 AM Alice <alice@acme.test> wrote:\n\n> old\n", "Done."},
		{"gmail attribution wrapped", "Done.\n\nOn Mon, Nov 23, 2026 at 10:00 AM Alice Wonderland <\nalice@acme.test> wrote:\n> old", "Done."},
		{"gmail zh attribution", "好的\n\n2026年11月23日周一 10:00，Alice <alice@acme.test> 写道：\n\n> 旧", "好的"},
		{"gmail zh attribution wrapped", "好的\n\n2026年11月23日周一 10:00，Alice Wonderland <alice.wonderland@acme.test>\n写道：\n> 旧", "好的"},
		{"gmail zh name first", "好的\n\nAlice <alice@acme.test> 于2026年11月23日周一 10:00写道：\n> 旧", "好的"},
		{"apple attribution", "Done.\n\nOn 23 Nov 2026, at 10:00, Alice <alice@acme.test> wrote:\n\n> old", "Done."},
		{"thunderbird attribution", "Done.\n\nOn 11/23/26 10:00 AM, Alice wrote:\n> old", "Done."},
		{"thunderbird zh attribution", "好的\n\n在 2026/11/23 10:00, Alice 写道:\n> 旧", "好的"},
		{"netease attribution", "好的\n\n在 2026-11-23 10:00:00，\"Alice\" <alice@acme.test> 写道：\n>旧", "好的"},
		{"attribution without quote at end", "Done.\n\nOn 23 Nov 2026, at 10:00, Alice <alice@acme.test> wrote:", "Done."},
		{"attribution before unquoted history", "Done.\n\nOn Monday, November 23, 2026, 10:00 AM, Alice <alice@acme.test> wrote:\nold text\nmore", "Done."},
		{"name-only attribution with quote", "Done.\n\nAlice wrote:\n> old", "Done."},
		{"name-only attribution without quote kept", "The vendor wrote:\nthe patch ships Friday.", "The vendor wrote:\nthe patch ships Friday."},
		{"sentence ending in wrote kept", "On Monday the vendor wrote:\nthe patch ships Friday.", "On Monday the vendor wrote:\nthe patch ships Friday."},
		{"sentence ending in wrote at the end kept", "Done.\n2 servers rebooted and the monitor wrote:", "Done.\n2 servers rebooted and the monitor wrote:"},
		{"chained attributions", "Done.\n\nOn 11/23/26 10:00 AM, Dan wrote:\n\nOn 11/22/26 09:00 AM, Alice wrote:\n> old", "Done."},
		{"custom attribution", "Hi\n* Alice <alice@acme.test> [2026-11-23 10:00]:\n> q\nA", "Hi\n\nA"},
		{"colon line before quote kept without address", "You asked:\n> q\nYes.", "You asked:\n\nYes."},
		{"only quote", "On 11/23/26 10:00 AM, Alice wrote:\n> old\n> older", ""},

		{"quoted lines dropped", "> a\n> b\nanswer", "answer"},
		{"indented quote dropped", "  > a\nanswer", "answer"},
		{"interleaved", "On 11/23/26 10:00 AM, Alice wrote:\n> q1\n\na1\n\n> q2\n> q2b\n\na2\n\n-- \nBob", "a1\n\na2\n\n-- \nBob"},
		{"interleaved without blank lines", "> q1\na1\n> q2\na2", "a1\n\na2"},
		{"nested quotes", "Hi\n>> deep\n> shallow\nanswer", "Hi\n\nanswer"},
		{"greater-than inside a line kept", "if lag > 5 then page\nBob", "if lag > 5 then page\nBob"},

		{"signature above quote kept", "Done.\n\n-- \nBob Chen\nACME\n\nOn 11/23/26 10:00 AM, Alice wrote:\n> old", "Done.\n\n-- \nBob Chen\nACME"},
		{"signature above outlook block kept", "Done.\n-- \nBob\n-----Original Message-----\nold", "Done.\n-- \nBob"},
		{"mobile signature kept", "OK\n\nSent from my iPhone\n\n> On Nov 23, 2026, at 10:00, Alice <alice@acme.test> wrote:\n>\n> old", "OK\n\nSent from my iPhone"},
		{"commands kept", "/severity 2\n/assign alice@example.com\nOn it.\n\nOn 11/23/26 10:00 AM, Alice wrote:\n> old", "/severity 2\n/assign alice@example.com\nOn it."},
		{"trailing spaces kept", "Done.  \n-- \nBob", "Done.  \n-- \nBob"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Strip(tt.in)
			if got != tt.want {
				t.Errorf("Strip(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			if again := Strip(got); again != got {
				t.Errorf("not idempotent: Strip(%q) = %q", got, again)
			}
			if len(got) > len(tt.in) {
				t.Errorf("output longer than input: %q", got)
			}
		})
	}
}

func TestStripLargeInput(t *testing.T) {
	// Many attribution lines in a row must not make Strip quadratic.
	var b strings.Builder
	b.WriteString("Top\n")
	for range 20000 {
		b.WriteString("On 11/23/26 10:00 AM, Alice wrote:\n\n")
	}
	b.WriteString("> q\n")
	if got := Strip(b.String()); got != "Top" {
		t.Errorf("got %.80q", got)
	}
}

// Every separator label, alone on its line as BlackBerry writes "Original
// Message" (any case, indented), starts the history when a header block
// follows, and is kept when none does: the lookup finds each label, the
// longest included.
func TestBareSeparatorLabels(t *testing.T) {
	for _, w := range separatorLabels {
		label := "   " + strings.ToUpper(w) + "  "
		in := "Fixed.\n\n" + label + "\nFrom: Alice <alice@example.test>\nSent: Monday, November 23, 2026 10:00 AM\nTo: support@example.test\nSubject: lag\n\nold"
		if got := Strip(in); got != "Fixed." {
			t.Errorf("label %q above a header block: got %q, want %q", w, got, "Fixed.")
		}
		kept := "Fixed.\n\n" + label + "\nBob"
		if got := Strip(kept); !strings.Contains(got, strings.ToUpper(w)) || !strings.HasSuffix(got, "Bob") {
			t.Errorf("label %q alone: got %q, want it kept", w, got)
		}
	}
}
