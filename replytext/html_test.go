package replytext

import (
	"strings"
	"testing"
)

func TestHTMLToText(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", ""},
		{"plain text", "just text", "just text"},
		{"br", "a<br>b<br/>c", "a\nb\nc"},
		{"double br", "a<br><br>b", "a\n\nb"},
		{"divs", "<div>a</div><div>b</div>", "a\nb"},
		{"gmail blank line", "<div>a</div><div><br></div><div>b</div>", "a\n\nb"},
		{"trailing br in block", "<div>a<br></div><div>b</div>", "a\nb"},
		{"paragraphs", "<p>a</p><p>b</p>", "a\n\nb"},
		{"tight paragraphs", `<p style="margin:0">a</p><p style="margin: 0px;">b</p>`, "a\nb"},
		{"outlook paragraphs", "<p class=MsoNormal>a</p><p class=MsoNormal><o:p>&nbsp;</o:p></p><p class=MsoNormal>b</p><p class=MsoNormal>c</p>", "a\n\nb\nc"},
		{"collapse white space", "<p>  a \n\t b  </p>", "a b"},
		{"inline elements", "a <b>bold</b> and <i>it</i>.", "a bold and it."},
		{"no-break spaces", "a&nbsp;&nbsp;&nbsp;b", "a b"},
		{"entities", "&lt;tag&gt; &amp; &quot;q&quot; &eacute; &#20320;&#x597D;", `<tag> & "q" é 你好`},
		{"script style head", "<html><head><title>T</title><style>p{}</style></head><body><script>x()</script>a</body></html>", "a"},
		{"hidden", `a<div style="display:none">secret</div><span hidden>h</span>b`, "ab"},
		{"comments", "a<!-- note -->b", "ab"},
		{"images skipped", `a<img src="cid:x" alt="logo">b`, "ab"},
		{"unordered list", "<p>x</p><ul><li>one</li><li>two</li></ul><p>y</p>", "x\n\n- one\n- two\n\ny"},
		{"ordered list", `<ol start="3"><li>c</li><li>d</li></ol>`, "3. c\n4. d"},
		{"nested list", "<ul><li>a<ul><li>b</li></ul></li><li>c</li></ul>", "- a\n  - b\n- c"},
		{"outlook list paragraph", `<p class=MsoListParagraph style='mso-list:l0 level1 lfo1'><![if !supportLists]><span style='mso-list:Ignore'>·&nbsp;&nbsp;</span><![endif]>item</p>`, "- item"},
		{"link", `see <a href="https://example.com/kb/1">the KB</a>.`, "see the KB (https://example.com/kb/1)."},
		{"link same as text", `<a href="https://example.com/">example.com</a>`, "example.com"},
		{"mailto same as text", `<a href="mailto:bob@example.com">bob@example.com</a>`, "bob@example.com"},
		{"mailto with name", `<a href="mailto:bob@example.com">Bob</a>`, "Bob (bob@example.com)"},
		{"image link", `<a href="https://example.com/"><img src="logo.png"></a>x`, "x"},
		{"anchor link", `<a href="#top">top</a>`, "top"},
		{"pre", "<p>run:</p><pre>  a  b\n\tc\n</pre><p>done</p>", "run:\n\n  a  b\n\tc\n\ndone"},
		{"signature separator", "text<br>-- <br>Bob", "text\n-- \nBob"},
		{"table", "<table><tr><td>Name</td><td>Bob</td></tr><tr><td>Phone</td><td>1</td></tr></table>", "Name Bob\nPhone 1"},
		{"heading", "<h1>Title</h1>text", "Title\n\ntext"},
		{"quote blockquote", `a<blockquote type="cite">q1<br>q2</blockquote>b`, "a\n\n> q1\n> q2\n\nb"},
		{"nested quotes", `<blockquote type="cite">x<blockquote type="cite">y</blockquote></blockquote>`, "> x\n>\n>> y"},
		{"gmail quote", `<blockquote class="gmail_quote" style="border-left:1px solid #ccc">q</blockquote>`, "> q"},
		{"indent blockquote not a quote", `<blockquote style="margin:0 0 0 40px;border:none;padding:0px">indented</blockquote>`, "indented"},
		{"bare blockquote is a quote", `<blockquote>quoted</blockquote>`, "> quoted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := HTMLToText(tt.in); got != tt.want {
				t.Errorf("HTMLToText(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestStripHTML(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"no quote", "<div>Fixed.</div>", "Fixed."},
		{"gmail", `<div dir="ltr">Fixed.</div><br><div class="gmail_quote"><div dir="ltr" class="gmail_attr">On Mon, Nov 23, 2026 at 10:00 AM Alice &lt;alice@acme.test&gt; wrote:<br></div><blockquote class="gmail_quote" style="margin:0 0 0 .8ex;border-left:1px #ccc solid;padding-left:1ex">old</blockquote></div>`, "Fixed."},
		{"gmail attribution in another language", `<div>Fixed.</div><div class="gmail_quote"><div class="gmail_attr">2026年11月23日(月) 10:00 Alice &lt;alice@acme.test&gt;:<br></div><blockquote class="gmail_quote" style="border-left:1px #ccc solid">old</blockquote></div>`, "Fixed."},
		{"apple", `Fixed.<div><br><blockquote type="cite"><div>On 23 Nov 2026, at 10:00, Alice &lt;alice@acme.test&gt; wrote:</div><div>old</div></blockquote></div>`, "Fixed."},
		{"thunderbird bottom post", `<div class="moz-cite-prefix">On 11/23/26 10:00 AM, Alice wrote:<br></div><blockquote type="cite">old</blockquote><p>Fixed.</p>`, "Fixed."},
		{"outlook web", `<div>Fixed.</div><div id="appendonsend"></div><hr><div id="divRplyFwdMsg"><b>From:</b> Alice<br><b>Sent:</b> Monday</div><div>old</div>`, "Fixed."},
		{"outlook divRplyFwdMsg only", `<div>Fixed.</div><hr><div id="divRplyFwdMsg"><b>From:</b> Alice</div><div>old</div>`, "Fixed."},
		{"outlook border-top", `<div class=WordSection1><p class=MsoNormal>Fixed.</p><div><div style='border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0in 0in 0in'><p class=MsoNormal><b>From:</b> Alice</p></div></div><p class=MsoNormal>old</p></div>`, "Fixed."},
		{"outlook border-top zh", `<p class=MsoNormal>好的</p><div style='border:none;border-top:solid #E1E1E1 1.0pt'><p class=MsoNormal><b>发件人<span>:</span></b> 王丽</p></div><p>旧</p>`, "好的"},
		{"border-top without header kept", `<p>Fixed.</p><div style="border-top:1px solid #ccc">Bob Chen, ACME</div>`, "Fixed.\n\nBob Chen, ACME"},
		{"qq includetail", `<div>好的</div><div><includetail><div>------------------&nbsp;原始邮件&nbsp;------------------</div><div>旧</div></includetail></div>`, "好的"},
		{"qq separator text", `<div>好的</div><div>------------------&nbsp;原始邮件&nbsp;------------------</div><div><b>发件人:</b> 王丽</div><div>旧</div>`, "好的"},
		{"netease reply", `<div>好的</div><pre><br>在 2026-11-23 10:00:00，"王丽" &lt;alice@acme.test&gt; 写道：<br></pre><blockquote id="isReplyContent" style="BORDER-LEFT: #ccc 1px solid">旧</blockquote>`, "好的"},
		{"netease forward", `<div>转给数据库组</div><div id="isForwardContent"><div>-------- 转发邮件信息 --------</div>旧</div>`, "转给数据库组"},
		{"netease card", `<div>OK</div><div class="J-reply"><div>---- Replied Message ----</div></div><div>old</div>`, "OK"},
		{"yahoo", `<div>OK</div><div class="yahoo_quoted"><div>On Monday, Alice wrote:</div>old</div>`, "OK"},
		{"marker inside a quote does not cut the reply below", `<blockquote type="cite"><div id="divRplyFwdMsg"><b>From:</b> A</div>old</blockquote><p>Fixed.</p>`, "Fixed."},
		{"indent blockquote kept", `<div>Steps:</div><blockquote style="margin:0 0 0 40px;border:none;padding:0px"><div>restart the replica</div></blockquote>`, "Steps:\n\nrestart the replica"},
		{"html only quote", `<blockquote type="cite">old</blockquote>`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StripHTML(tt.in); got != tt.want {
				t.Errorf("StripHTML(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestHTMLDeeplyNested(t *testing.T) {
	// The HTML parser refuses nesting deeper than 512 elements; the text
	// must still come through.
	in := strings.Repeat("<div>", 600) + "deep text" + strings.Repeat("</div>", 600) +
		"<script>no()</script>"
	for name, f := range map[string]func(string) string{"HTMLToText": HTMLToText, "StripHTML": StripHTML} {
		if got := f(in); got != "deep text" {
			t.Errorf("%s = %q, want %q", name, got, "deep text")
		}
	}
}
