// Package replytext turns the body of a staff member's email reply into just
// the text that person wrote, so the helpdesk can relay it to the customer
// (SPEC §4: "its text (quoted history stripped) is relayed"). A leaked quote
// can put internal text in front of the customer, so the history of every
// client our staff use is recognised.
//
// It owns the recognition of quoted history as mail clients write it, in
// the languages and word orders of their locales: attribution lines ("On …
// wrote:", "Am … schrieb …:", "Le … a écrit :", "W dniu … napisał(a):",
// "… пишет:", "…님이 작성:", "… 写道：", Gmail's verb-less "2014-03-20 8:48
// GMT+01:00 Name <addr>:"), also wrapped or sharing a line with the person's
// text; header blocks ("From:/Sent:/Subject:", "De :/Envoyé :/Objet :",
// "Von:/Gesendet:/Betreff:", "差出人:/送信日時:", "发件人/发送时间/主题", blocks
// starting with "Date:", Lotus Notes' header); separator lines
// ("-----Original Message-----", "-------- Oprindelig besked --------",
// "---- On … wrote ----", "------------------ 原始邮件 ------------------",
// "Begin forwarded message:"); mobile signatures above unmarked history
// ("Sent from my iPhone", "Von meinem iPhone gesendet", "发自我的iPhone");
// ">"-quoted lines in top-posted and interleaved replies; and the HTML
// markup of the same (blockquotes with or without class or type=cite,
// gmail_quote, Outlook's divRplyFwdMsg, appendonsend and border-top dividers,
// <hr id="stopSpelling"> and <hr> above a header block, yahoo_quoted,
// moz-cite-prefix, QQ/Foxmail includetail, NetEase isReplyContent). It also
// owns the conversion of an HTML body to readable plain text.
//
// The word lists per language are in lang.go; testdata/plain and
// testdata/html hold a corpus of replies as those clients write them, with
// the expected text (see fixtures_test.go).
//
// It does not parse MIME, decode charsets or transfer encodings (that is
// mailin), and it does not interpret command lines such as "/note" or
// "/severity 2" (that is cases). The caller passes already decoded UTF-8.
// The signature a person typed above the quote is kept: deciding whether to
// relay it is the caller's business.
package replytext
