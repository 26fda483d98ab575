// Package replytext turns the body of a staff member's email reply into just
// the text that person wrote, so the helpdesk can relay it to the customer
// (SPEC §4: "its text (quoted history stripped) is relayed").
//
// It owns the recognition of quoted history as mail clients write it:
// attribution lines ("On … wrote:", "… 写道："), Outlook header blocks
// ("From:/Sent:/Subject:", "发件人/发送时间/主题"), separator lines
// ("-----Original Message-----", "------------------ 原始邮件 ------------------",
// "---- 回复的原邮件 ----", forwarded-message lines), ">"-quoted lines in
// top-posted and interleaved replies, and the HTML markup of the same
// (gmail_quote, blockquote type=cite, Outlook divRplyFwdMsg and its border-top
// header div, QQ/Foxmail includetail, NetEase isReplyContent/isForwardContent).
// It also owns the conversion of an HTML body to readable plain text.
//
// It does not parse MIME, decode charsets or transfer encodings (that is
// mailin), and it does not interpret command lines such as "/note" or
// "/severity 2" (that is cases). The caller passes already decoded UTF-8.
// The signature a person typed above the quote is kept: deciding whether to
// relay it is the caller's business.
package replytext
