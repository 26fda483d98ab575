package mailin

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

func parseTestFile(t testing.TB, name string) *Message {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	m, err := Parse(bytes.NewReader(raw), ParseOptions{})
	if err != nil {
		t.Fatalf("Parse(%s): %v", name, err)
	}
	checkMessageUTF8(t, m)
	return m
}

// checkMessageUTF8 fails when any string of m is not valid UTF-8.
func checkMessageUTF8(t testing.TB, m *Message) {
	t.Helper()
	strs := []string{m.MessageID, m.From.Name, m.From.Addr, m.Sender, m.Subject, m.Text, m.HTML, m.Auto, m.Hash}
	strs = append(strs, m.InReplyTo...)
	strs = append(strs, m.References...)
	strs = append(strs, m.AuthResults...)
	strs = append(strs, m.Problems...)
	for _, l := range [][]Address{m.To, m.Cc, m.ReplyTo} {
		for _, a := range l {
			strs = append(strs, a.Name, a.Addr)
		}
	}
	for _, a := range m.Attachments {
		strs = append(strs, a.Filename, a.ContentType)
		if strings.ContainsAny(a.Filename, `/\`) {
			t.Errorf("attachment name %q has a path separator", a.Filename)
		}
	}
	for _, s := range strs {
		if !utf8.ValidString(s) {
			t.Errorf("invalid UTF-8: %q", s)
		}
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		t.Errorf("Subject has CR/LF: %q", m.Subject)
	}
}

func parseWantEq[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func parseWantContains(t *testing.T, what, got, sub string) {
	t.Helper()
	if !strings.Contains(got, sub) {
		t.Errorf("%s = %q, want it to contain %q", what, got, sub)
	}
}

func parseWantClean(t *testing.T, m *Message) {
	t.Helper()
	if len(m.Problems) > 0 {
		t.Errorf("Problems = %q, want none", m.Problems)
	}
}

func parseWantProblem(t *testing.T, m *Message, sub string) {
	t.Helper()
	for _, p := range m.Problems {
		if strings.Contains(p, sub) {
			return
		}
	}
	t.Errorf("Problems = %q, want one containing %q", m.Problems, sub)
}

func parseAttachmentNames(m *Message) []string {
	var n []string
	for _, a := range m.Attachments {
		n = append(n, a.Filename)
	}
	return n
}

func TestParseCharsets(t *testing.T) {
	tests := []struct {
		file  string
		check func(t *testing.T, m *Message)
	}{
		{"zh-gbk-base64.eml", func(t *testing.T, m *Message) {
			parseWantClean(t, m)
			parseWantEq(t, "Subject", m.Subject, "测试邮件：数据库无法连接")
			parseWantEq(t, "From", m.From, Address{Name: "张三", Addr: "zhangsan@customer.test"})
			parseWantEq(t, "Text", m.Text, "你好，世界\n数据库服务器从今天早上开始无法连接，请尽快处理。\n\n张三\n")
			parseWantEq(t, "MessageID", m.MessageID, "20240105093000.4F2A1@customer.test")
			parseWantEq(t, "Sender", m.Sender, "zhangsan@customer.test")
			parseWantEq(t, "NullSender", m.NullSender, false)
			parseWantEq(t, "len(To)", len(m.To), 1)
			parseWantEq(t, "To[0]", m.To[0], Address{Name: "技术支持", Addr: "support@example.com"})
			parseWantEq(t, "len(Cc)", len(m.Cc), 2)
			parseWantEq(t, "Cc[1]", m.Cc[1], Address{Name: "Wang, Wu", Addr: "wangwu@customer.test"})
			parseWantEq(t, "len(AuthResults)", len(m.AuthResults), 2)
			parseWantContains(t, "AuthResults[0]", m.AuthResults[0], "dkim=pass header.d=customer.test")
			parseWantContains(t, "AuthResults[1]", m.AuthResults[1], "dmarc=pass")
			parseWantEq(t, "Date", m.Date.Equal(time.Date(2024, 1, 5, 1, 30, 0, 0, time.UTC)), true)
			parseWantEq(t, "Auto", m.Auto, "")
			parseWantEq(t, "len(Hash)", len(m.Hash), 64)
		}},
		{"zh-gb18030.eml", func(t *testing.T, m *Message) {
			parseWantClean(t, m)
			parseWantEq(t, "Subject", m.Subject, "故障报告：𠮷野家门店终端")
			parseWantEq(t, "From.Name", m.From.Name, "赵六")
			parseWantEq(t, "Text", m.Text, "设备编号：𠮷-2024-㐀，温度 38℃，价格 €12。\n请安排工程师上门。\n")
		}},
		{"zh-big5.eml", func(t *testing.T, m *Message) {
			parseWantClean(t, m)
			parseWantEq(t, "Subject", m.Subject, "系統無法登入")
			parseWantEq(t, "From.Name", m.From.Name, "陳大文")
			parseWantContains(t, "Text", m.Text, "您好，我們的系統從昨天開始無法登入")
		}},
		{"ja-iso-2022-jp.eml", func(t *testing.T, m *Message) {
			parseWantClean(t, m)
			parseWantEq(t, "Subject", m.Subject, "ログイン障害について")
			parseWantEq(t, "From.Name", m.From.Name, "山田太郎")
			parseWantEq(t, "Text", m.Text, "お世話になっております。\nログインできません。確認をお願いします。\n")
		}},
		{"windows-1252.eml", func(t *testing.T, m *Message) {
			parseWantClean(t, m)
			parseWantEq(t, "Subject", m.Subject, "Café “invoice” 5 €")
			parseWantEq(t, "From.Name", m.From.Name, "François Dupré")
			parseWantEq(t, "Text", m.Text, "Bonjour,\nle café coûte 5 € – “merci” pour l’aide.\n")
		}},
		{"iso-8859-2.eml", func(t *testing.T, m *Message) {
			parseWantClean(t, m)
			parseWantEq(t, "Subject", m.Subject, "Zażółć gęślą jaźń")
			parseWantEq(t, "From.Name", m.From.Name, "Paweł Łukasz")
			parseWantContains(t, "Text", m.Text, "Příliš žluťoučký kůň.")
		}},
		{"utf-7.eml", func(t *testing.T, m *Message) {
			parseWantClean(t, m)
			parseWantEq(t, "Subject", m.Subject, "日本語 report")
			parseWantEq(t, "Text", m.Text, "Hi Mom -☺-!\nA≢Α.\n日本語\n1 + 1 = 2\n")
		}},
		{"html-meta-gbk.eml", func(t *testing.T, m *Message) {
			parseWantClean(t, m)
			parseWantEq(t, "Subject", m.Subject, "网页表单")
			parseWantEq(t, "Text", m.Text, "")
			parseWantContains(t, "HTML", m.HTML, "打印机无法打印，型号：HP-1020。")
		}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".eml"), func(t *testing.T) {
			tt.check(t, parseTestFile(t, tt.file))
		})
	}
}

func TestParseStructure(t *testing.T) {
	tests := []struct {
		file  string
		check func(t *testing.T, m *Message)
	}{
		{"attach-rfc2231.eml", func(t *testing.T, m *Message) {
			parseWantClean(t, m)
			parseWantEq(t, "Subject", m.Subject, "附件：错误日志")
			parseWantEq(t, "Text", m.Text, "请查看附件。\n")
			if len(m.Attachments) != 2 {
				t.Fatalf("attachments %q, want 2", parseAttachmentNames(m))
			}
			a := m.Attachments[0]
			parseWantEq(t, "Filename", a.Filename, "数据库错误日志说明.pdf")
			parseWantEq(t, "ContentType", a.ContentType, "application/pdf")
			parseWantEq(t, "Data", string(a.Data), string(fakePDF))
			parseWantEq(t, "Size", a.Size, int64(len(fakePDF)))
			parseWantEq(t, "Truncated", a.Truncated, false)
			parseWantEq(t, "Filename[1]", m.Attachments[1].Filename, "月度报告.xlsx")
		}},
		{"attach-rfc2047.eml", func(t *testing.T, m *Message) {
			parseWantClean(t, m)
			parseWantEq(t, "Text", m.Text, "日志见附件。\n")
			got := strings.Join(parseAttachmentNames(m), "|")
			parseWantEq(t, "attachments", got, "系统日志.zip|screen.png|passwd|attachment-4")
			parseWantEq(t, "png data", string(m.Attachments[1].Data), string(fakePNG))
		}},
		{"html-only.eml", func(t *testing.T, m *Message) {
			parseWantClean(t, m)
			parseWantEq(t, "Text", m.Text, "")
			parseWantEq(t, "HTML", m.HTML, "<html><body><p>The <b>backup</b> job failed again.</p><p>Regards,<br>Ops — 运维</p></body></html>\n")
		}},
		{"alternative.eml", func(t *testing.T, m *Message) {
			parseWantClean(t, m)
			parseWantEq(t, "Text", m.Text, "It is back online, thanks — you can close it.\n\n> On Thu, Support wrote:\n> We are looking into it.")
			parseWantEq(t, "HTML", m.HTML, "<div dir=\"ltr\">It is back online, thanks — you can close it.</div>\n")
			parseWantEq(t, "MessageID", m.MessageID, "CAF=alt+123@mail.customer.test")
			parseWantEq(t, "InReplyTo", strings.Join(m.InReplyTo, " "), "case-12-ack@example.com")
			parseWantEq(t, "References", strings.Join(m.References, " "), "root-1@customer.test case-12-ack@example.com")
			parseWantEq(t, "From", m.From, Address{Name: "Alice Liddell", Addr: "alice@customer.test"})
			parseWantEq(t, "ReplyTo", len(m.ReplyTo) == 1 && m.ReplyTo[0].Addr == "alice.work@customer.test", true)
			parseWantEq(t, "Sender", m.Sender, "")
			parseWantEq(t, "Subject", m.Subject, "Re: [Case#12] Printer offline")
			parseWantEq(t, "attachments", len(m.Attachments), 0)
		}},
		{"nested.eml", func(t *testing.T, m *Message) {
			parseWantClean(t, m)
			parseWantEq(t, "Text", m.Text, "See the screenshot below.")
			parseWantEq(t, "HTML", m.HTML, `<p>See the screenshot below.</p><img src="cid:shot1@customer.test">`)
			parseWantEq(t, "attachments", strings.Join(parseAttachmentNames(m), "|"), "shot.png|contract.pdf")
			parseWantEq(t, "png type", m.Attachments[0].ContentType, "image/png")
		}},
		{"forwarded-rfc822.eml", func(t *testing.T, m *Message) {
			parseWantClean(t, m)
			parseWantEq(t, "Text", m.Text, "Forwarding the message our billing system sent.")
			if len(m.Attachments) != 1 {
				t.Fatalf("attachments %q, want 1", parseAttachmentNames(m))
			}
			a := m.Attachments[0]
			parseWantEq(t, "ContentType", a.ContentType, "message/rfc822")
			parseWantEq(t, "Filename", a.Filename, "attachment-1")
			parseWantContains(t, "Data", string(a.Data), "Invoice run failed with code 17.")
			inner, err := Parse(bytes.NewReader(a.Data), ParseOptions{})
			if err != nil {
				t.Fatal(err)
			}
			parseWantEq(t, "inner Subject", inner.Subject, "Invoice run failed")
		}},
		{"text-attachment.eml", func(t *testing.T, m *Message) {
			parseWantClean(t, m)
			parseWantEq(t, "Text", m.Text, "Two logs attached.")
			parseWantEq(t, "attachments", strings.Join(parseAttachmentNames(m), "|"), "server.log|config.txt")
			parseWantEq(t, "log type", m.Attachments[0].ContentType, "text/plain")
			parseWantEq(t, "log data", string(m.Attachments[0].Data), "2024-01-05 09:00:01 ERROR connection refused")
		}},
		{"multi-inline-text.eml", func(t *testing.T, m *Message) {
			parseWantClean(t, m)
			parseWantEq(t, "Text", m.Text, "Part one: here is the device.\nPart two: the label is on the back.")
			parseWantEq(t, "attachments", strings.Join(parseAttachmentNames(m), "|"), "IMG_0001.jpg")
		}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".eml"), func(t *testing.T) {
			tt.check(t, parseTestFile(t, tt.file))
		})
	}
}

func TestParseMalformed(t *testing.T) {
	tests := []struct {
		file    string
		problem string // a Problems entry contains it
		text    string // Text (or HTML) contains it
		check   func(t *testing.T, m *Message)
	}{
		{"bad-missing-close-boundary.eml", "closing boundary", "The disk array reports a failed drive.", func(t *testing.T, m *Message) {
			if len(m.Attachments) != 1 || m.Attachments[0].Size != 32 {
				t.Errorf("attachments %+v, want dump.bin of 32 bytes", m.Attachments)
			}
		}},
		{"bad-boundary-mismatch.eml", "boundary not found", "The VPN drops every ten minutes.", func(t *testing.T, m *Message) {
			parseWantEq(t, "Text", m.Text, "The VPN drops every ten minutes.")
		}},
		{"bad-boundary-absent.eml", "boundary not found", "the router is still down.", func(t *testing.T, m *Message) {
			parseWantEq(t, "Text", m.Text, "The gateway stripped the MIME structure; the router is still down.\n")
		}},
		{"bad-no-boundary-param.eml", "without boundary", "Email sync stopped after the update.", func(t *testing.T, m *Message) {
			parseWantEq(t, "attachments", strings.Join(parseAttachmentNames(m), "|"), "sync.csv")
			parseWantEq(t, "Text", m.Text, "Email sync stopped after the update.")
		}},
		{"bad-base64.eml", "broken base64", "The license server is down since 8:00.\n", nil},
		{"bad-unknown-charset.eml", "unknown charset", "Printer on floor 3 is jammed.", func(t *testing.T, m *Message) {
			parseWantEq(t, "Subject", m.Subject, "Hello World")
			parseWantEq(t, "From.Name", m.From.Name, "Judy Q")
		}},
		{"bad-unknown-cte.eml", "unknown Content-Transfer-Encoding", "The badge reader at gate 2 rejects all cards.", nil},
		{"bad-missing-headers.eml", "no From", "the backup still failed", func(t *testing.T, m *Message) {
			parseWantProblem(t, m, "no Date")
			parseWantProblem(t, m, "no Message-ID")
			parseWantEq(t, "MessageID", m.MessageID, "")
			parseWantEq(t, "From", m.From, Address{})
			parseWantEq(t, "Date", m.Date.IsZero(), true)
			parseWantEq(t, "Subject", m.Subject, "no sender, no date, no id")
			parseWantEq(t, "len(Hash)", len(m.Hash), 64)
		}},
		{"bad-no-separator.eml", "not ended by an empty line", "The scanner on floor 2 is offline.", func(t *testing.T, m *Message) {
			parseWantEq(t, "Subject", m.Subject, "no empty line")
		}},
		{"bad-nested-unclosed.eml", "closing boundary", "Payroll export hangs at 99%.", func(t *testing.T, m *Message) {
			parseWantContains(t, "HTML", m.HTML, "<p>Payroll export hangs at 99%.</p>")
		}},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSuffix(tt.file, ".eml"), func(t *testing.T) {
			m := parseTestFile(t, tt.file)
			parseWantProblem(t, m, tt.problem)
			parseWantContains(t, "Text", m.Text+m.HTML, tt.text)
			if tt.check != nil {
				tt.check(t, m)
			}
		})
	}
}

// TestParseRaw8bit: raw GBK in headers and body without any charset
// declaration is read as GB18030.
func TestParseRaw8bit(t *testing.T) {
	m := parseTestFile(t, "bad-raw-8bit-headers.eml")
	parseWantEq(t, "Subject", m.Subject, "服务器宕机")
	parseWantEq(t, "From", m.From, Address{Name: "李四", Addr: "lisi@customer.test"})
	parseWantEq(t, "Text", m.Text, "服务器今天凌晨宕机，请尽快联系。\n")
}

func TestParseGiantHeader(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("Message-ID: <giant@customer.test>\r\nDate: Fri, 5 Jan 2024 09:30:00 +0800\r\n")
	// 3 MiB of trace fields, then one 2 MiB field, then the fields that matter.
	line := "Received: from relay.customer.test by relay2.customer.test with SMTP id 0123456789abcdef; Fri, 5 Jan 2024 09:30:00 +0800\r\n"
	for b.Len() < 3<<20 {
		b.WriteString(line)
	}
	b.WriteString("X-Junk: " + strings.Repeat("x", 2<<20) + "\r\n")
	b.WriteString("From: Vera <vera@customer.test>\r\nSubject: giant header\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n")
	b.WriteString("The mail server adds too many headers.\r\n")

	start := time.Now()
	m, err := Parse(bytes.NewReader(b.Bytes()), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Parse took %v", d)
	}
	checkMessageUTF8(t, m)
	parseWantProblem(t, m, "header too big")
	parseWantEq(t, "Subject", m.Subject, "giant header")
	parseWantEq(t, "From.Addr", m.From.Addr, "vera@customer.test")
	parseWantEq(t, "Text", m.Text, "The mail server adds too many headers.\n")

	// One endless header line, no body at all.
	m, err = Parse(strings.NewReader("Subject: "+strings.Repeat("=?utf-8?q?a", 300000)), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	parseWantProblem(t, m, "cut")
}

func TestParseErrors(t *testing.T) {
	for name, in := range map[string]string{
		"empty":       "",
		"blank":       "\r\n\r\n  \r\n",
		"no header":   "just some text\r\nand more\r\n",
		"body only":   "\r\nbody after an empty line\r\n",
		"binary junk": "\x00\x01\x02\xff\xfe",
	} {
		t.Run(name, func(t *testing.T) {
			if m, err := Parse(strings.NewReader(in), ParseOptions{}); err == nil {
				t.Errorf("Parse = %+v, want an error", m)
			}
		})
	}
}

func TestParseAttachmentLimit(t *testing.T) {
	raw, err := os.ReadFile("testdata/attach-rfc2231.eml")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name      string
		max       int64
		keep      int
		truncated bool
	}{
		{"default", 0, len(fakePDF), false},
		{"cut", 10, 10, true},
		{"none", -1, 0, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m, err := Parse(bytes.NewReader(raw), ParseOptions{MaxAttachment: tt.max})
			if err != nil {
				t.Fatal(err)
			}
			a := m.Attachments[0]
			parseWantEq(t, "len(Data)", len(a.Data), tt.keep)
			parseWantEq(t, "Size", a.Size, int64(len(fakePDF)))
			parseWantEq(t, "Truncated", a.Truncated, tt.truncated)
		})
	}
}

func TestParseTooManyParts(t *testing.T) {
	var b strings.Builder
	b.WriteString("From: a@customer.test\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n")
	for range 5000 {
		b.WriteString("--x\r\nContent-Type: application/octet-stream\r\n\r\nAAAA\r\n")
	}
	b.WriteString("--x--\r\n")
	m, err := Parse(strings.NewReader(b.String()), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	parseWantProblem(t, m, "too many MIME parts")
	if len(m.Attachments) > maxParts {
		t.Errorf("%d attachments, want at most %d", len(m.Attachments), maxParts)
	}

	// Deep nesting.
	b.Reset()
	b.WriteString("From: a@customer.test\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n")
	for i := 1; i < 200; i++ {
		b.WriteString("--b" + strconv.Itoa(i-1) + "\r\nContent-Type: multipart/mixed; boundary=b" + strconv.Itoa(i) + "\r\n\r\n")
	}
	b.WriteString("--b199\r\n\r\ndeep text\r\n")
	m, err = Parse(strings.NewReader(b.String()), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	parseWantProblem(t, m, "nested too deep")
}

func TestDecodeHeaderText(t *testing.T) {
	gbk := func(s string) string {
		b, _ := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
		return string(b)
	}
	tests := []struct {
		name, in, want string
		problem        bool
	}{
		{"plain", "Hello", "Hello", false},
		{"utf8 B", "=?UTF-8?B?5rWL6K+V?=", "测试", false},
		{"adjacent words drop space", "=?utf-8?q?a?= =?utf-8?q?b?=", "ab", false},
		{"word and text keep space", "=?utf-8?q?a?= b", "a b", false},
		{"split multibyte across words", "=?utf-8?B?5rU=?= =?utf-8?B?i+ivlQ==?=", "测试", false},
		{"lowercase q with underscore", "=?iso-8859-1?q?caf=E9_au_lait?=", "café au lait", false},
		{"language suffix", "=?utf-8*zh?B?5rWL6K+V?=", "测试", false},
		{"unknown charset keeps bytes", "=?x-unknown?Q?abc?=", "abc", true},
		{"unknown charset 8-bit", "=?x-unknown?Q?=FF=FE?=", "", true},
		{"malformed word left raw", "=?utf-8?X?abc?=", "=?utf-8?X?abc?=", false},
		{"unterminated word", "=?utf-8?Q?abc", "=?utf-8?Q?abc", false},
		{"word without spaces around", "Re:=?utf-8?B?5rWL6K+V?=!", "Re:测试!", false},
		{"Q with spaces", "=?utf-8?Q?hello world?=", "hello world", false},
		{"raw gbk", gbk("你好") + " =?utf-8?B?5rWL6K+V?=", "你好 测试", false},
		{"raw invalid", "\xff\xfe\xfd abc", "ÿþý abc", false},
		{"gb2312 label with gbk-only char", "=?gb2312?B?" + parseB64(gbk("镕")) + "?=", "镕", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, p := decodeHeaderText(tt.in)
			if tt.want != "" || !tt.problem {
				parseWantEq(t, "decoded", got, tt.want)
			}
			if !utf8.ValidString(got) {
				t.Errorf("invalid UTF-8 %q", got)
			}
			parseWantEq(t, "problem", p != "", tt.problem)
		})
	}
}

func parseB64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func TestParseAddressList(t *testing.T) {
	tests := []struct {
		name, in string
		want     []Address
	}{
		{"bare", "A@Example.COM", []Address{{"", "a@example.com"}}},
		{"angle", "Alice <alice@customer.test>", []Address{{"Alice", "alice@customer.test"}}},
		{"quoted comma", `"Doe, John" <j@customer.test>, b@customer.test`, []Address{{"Doe, John", "j@customer.test"}, {"", "b@customer.test"}}},
		{"unquoted comma", `Doe, John <j@customer.test>`, []Address{{"Doe, John", "j@customer.test"}}},
		{"old style comment", "j@customer.test (John Doe)", []Address{{"John Doe", "j@customer.test"}}},
		{"group", "Team: a@customer.test, b@customer.test;, c@customer.test", []Address{{"", "a@customer.test"}, {"", "b@customer.test"}, {"", "c@customer.test"}}},
		{"empty group", "undisclosed-recipients:;", nil},
		{"encoded in quotes", `"=?utf-8?B?5byg5LiJ?=" <z@customer.test>`, []Address{{"张三", "z@customer.test"}}},
		{"dots in name", "John Q. Public <jqp@customer.test>", []Address{{"John Q. Public", "jqp@customer.test"}}},
		{"source route", "<@relay.customer.test:u@customer.test>", []Address{{"", "u@customer.test"}}},
		{"mailto", "<mailto:u@customer.test>", []Address{{"", "u@customer.test"}}},
		{"unterminated angle", "Bob <bob@customer.test", []Address{{"Bob", "bob@customer.test"}}},
		{"escaped quote", `"Bob \"B\" Smith" <b@customer.test>`, []Address{{`Bob "B" Smith`, "b@customer.test"}}},
		{"single quotes", `'Carol' <c@customer.test>`, []Address{{"Carol", "c@customer.test"}}},
		{"name only", "Just A Name", nil},
		{"mailer-daemon", "MAILER-DAEMON@mx.customer.test (Mail Delivery System)", []Address{{"Mail Delivery System", "mailer-daemon@mx.customer.test"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := parseAddressList(tt.in)
			if len(got) != len(tt.want) {
				t.Fatalf("parseAddressList(%q) = %+v, want %+v", tt.in, got, tt.want)
			}
			for i := range got {
				parseWantEq(t, "address", got[i], tt.want[i])
			}
		})
	}
}

func TestParseMsgIDs(t *testing.T) {
	tests := []struct{ in, want string }{
		{"<a@b>", "a@b"},
		{" <a@b> (comment) <c@d>", "a@b c@d"},
		{"a@b c@d", "a@b c@d"},
		{"<a@b\r\n >", "a@b"},
		{"<>", ""},
		{"no id here", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			parseWantEq(t, "ids", strings.Join(parseMsgIDs(tt.in), " "), tt.want)
		})
	}
}

func TestParseDate(t *testing.T) {
	want := time.Date(2024, 1, 5, 1, 30, 0, 0, time.UTC)
	for _, in := range []string{
		"Fri, 5 Jan 2024 09:30:00 +0800",
		"Fri, 05 Jan 2024 09:30:00 +0800 (CST)",
		"5 Jan 2024 09:30:00 +0800",
		"Fri, 5 Jan 24 09:30:00 +0800",
		"2024-01-05 09:30:00 +0800",
		"Fri,  5 Jan 2024 01:30:00 GMT",
	} {
		t.Run(in, func(t *testing.T) {
			got, ok := parseDate(in)
			if !ok || !got.Equal(want) {
				t.Errorf("parseDate = %v, %v; want %v", got, ok, want)
			}
		})
	}
	if _, ok := parseDate("yesterday"); ok {
		t.Error("parseDate(yesterday) ok")
	}
}

func TestParseParamValue(t *testing.T) {
	tests := []struct {
		name, in, value, param, want string
	}{
		{"simple", `text/plain; charset="UTF-8"`, "text/plain", "charset", "UTF-8"},
		{"missing semicolon", `text/plain charset=gbk`, "text/plain", "charset", "gbk"},
		{"2231 single utf-8", `attachment; filename*=UTF-8''%E6%8A%A5%E5%91%8A.pdf`, "attachment", "filename", "报告.pdf"},
		{"2231 gbk", `attachment; filename*=gbk''%B1%A8%B8%E6.pdf`, "attachment", "filename", "报告.pdf"},
		{"2231 continuation mixed", `attachment; filename*0*=utf-8'en'%E6%8A%A5; filename*1="-x.pdf"`, "attachment", "filename", "报-x.pdf"},
		{"2231 wins over plain", `attachment; filename="fallback.pdf"; filename*=utf-8''real.pdf`, "attachment", "filename", "real.pdf"},
		{"2047 in quotes", `attachment; filename="=?utf-8?B?5oql5ZGKLnBkZg==?="`, "attachment", "filename", "报告.pdf"},
		{"unquoted with spaces", `attachment; filename=my report.pdf`, "attachment", "filename", "my report.pdf"},
		{"semicolon in quotes", `attachment; filename="a;b.txt"`, "attachment", "filename", "a;b.txt"},
		{"windows path", `attachment; filename="C:\dir\file.txt"`, "attachment", "filename", `C:\dir\file.txt`},
		{"upper case", `Multipart/Mixed; BOUNDARY="AbC"`, "multipart/mixed", "boundary", "AbC"},
		{"gap in sections", `attachment; filename*0=a; filename*2=c`, "attachment", "filename", "a"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, p := parseParamValue(tt.in)
			parseWantEq(t, "value", v, tt.value)
			parseWantEq(t, tt.param, p[tt.param], tt.want)
		})
	}
}

func TestCleanFilename(t *testing.T) {
	for in, want := range map[string]string{
		"report.pdf":                      "report.pdf",
		"../../etc/passwd":                "passwd",
		`C:\Users\a\b.txt`:                "b.txt",
		"..":                              "",
		".hidden":                         "hidden",
		"a\x00b\r\n.txt":                  "ab.txt",
		"dir/":                            "",
		strings.Repeat("长", 200) + ".pdf": strings.Repeat("长", 83) + ".pdf",
	} {
		t.Run(in, func(t *testing.T) {
			got := cleanFilename(in)
			parseWantEq(t, "name", got, want)
			if len(got) > 255 || !utf8.ValidString(got) {
				t.Errorf("bad name %q", got)
			}
		})
	}
}

func TestDecodeBase64(t *testing.T) {
	tests := []struct {
		name, in, want string
		bad            bool
	}{
		{"clean", "aGVsbG8=", "hello", false},
		{"lines", "aGVs\r\nbG8=\r\n", "hello", false},
		{"no padding", "aGVsbG8", "hello", false},
		{"concatenated runs", "aGk=aGk=", "hihi", false},
		{"garbage skipped", "aGVs!bG8=", "hello", true},
		{"truncated", "aGVsbG8gd", "hello ", true},
		{"footer after padding", "aGVsbG8=\r\n\r\n-- \r\nScanned by gateway\r\n", "hello", true},
		{"letters after padding", "aGVsbG8=\r\nDisclaimer\r\n", "hello", true},
		{"padded lines go on", "aGk=\r\naGk=\r\n", "hihi", false},
		{"double padding then a run", "aA==aGk=", "hhi", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, bad := decodeBase64([]byte(tt.in))
			parseWantEq(t, "data", string(got), tt.want)
			parseWantEq(t, "bad", bad, tt.bad)
		})
	}
}

func TestDecodeQP(t *testing.T) {
	for in, want := range map[string]string{
		"a=3Db":            "a=b",
		"soft=\r\nbreak":   "softbreak",
		"trail   \r\nx":    "trail\r\nx",
		"bad =ZZ escape":   "bad =ZZ escape",
		"lower =c3=a9":     "lower é",
		"end =":            "end ",
		"utf8 caf=C3=A9\n": "utf8 café\r\n",
	} {
		t.Run(in, func(t *testing.T) {
			parseWantEq(t, "decoded", string(decodeQP([]byte(in))), want)
		})
	}
}

func BenchmarkParse(b *testing.B) {
	files, err := filepath.Glob("testdata/*.eml")
	if err != nil || len(files) == 0 {
		b.Fatal("no testdata", err)
	}
	var raws [][]byte
	size := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		raws = append(raws, raw)
		size += len(raw)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, raw := range raws {
			if _, err := Parse(bytes.NewReader(raw), ParseOptions{}); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func TestCharsetToUTF8(t *testing.T) {
	enc := func(e encoding.Encoding, s string) []byte {
		b, err := e.NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name, label string
		in          []byte
		want        string
		problem     bool
	}{
		{"cp950 alias", "cp950", enc(traditionalchinese.Big5, "系統"), "系統", false},
		{"cp936", "CP936", enc(simplifiedchinese.GBK, "系统"), "系统", false},
		{"gb2312 with gbk-only char", "gb2312", enc(simplifiedchinese.GBK, "镕"), "镕", false},
		{"ascii label, utf-8 bytes", "us-ascii", []byte("café"), "café", false},
		{"no label, gbk bytes", "", enc(simplifiedchinese.GBK, "你好"), "你好", false},
		{"no label, latin-1 bytes", "", []byte("caf\xe9 cr\xe8me"), "café crème", false},
		{"unknown-8bit", "unknown-8bit", []byte("abc"), "abc", false},
		{"bad utf-8", "utf-8", []byte("ab\xffc"), "ab\uFFFDc", true},
		{"unknown label", "x-martian", []byte("hello"), "hello", true},
		{"quoted label with spaces", ` "ISO-8859-1" `, []byte("caf\xe9"), "café", false},
		{"shift_jis", "Shift_JIS", enc(japanese.ShiftJIS, "日本"), "日本", false},
		{"euc-kr", "ks_c_5601-1987", enc(korean.EUCKR, "한국"), "한국", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, p := charsetToUTF8(tt.label, tt.in)
			parseWantEq(t, "decoded", got, tt.want)
			parseWantEq(t, "problem", p != "", tt.problem)
		})
	}
}

func TestParseReadError(t *testing.T) {
	boom := errors.New("connection reset")
	m, err := Parse(io.MultiReader(strings.NewReader("From: a@customer.test\r\nSubject: cut\r\n\r\nfirst half"), iotest.ErrReader(boom)), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	parseWantProblem(t, m, "read error")
	parseWantEq(t, "Text", m.Text, "first half")

	if _, err := Parse(iotest.ErrReader(boom), ParseOptions{}); !errors.Is(err, boom) {
		t.Errorf("Parse(failing reader) error = %v, want %v", err, boom)
	}
}

// Where the fast decoder of whole lines takes the input, it gives what the
// lenient one gives, and the lenient one finds nothing wrong: random data
// in lines of several lengths, with every kind of damage the lenient
// decoder knows.
func TestDecodeBase64LinesAgreesWithLenient(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	damage := []func([]byte) []byte{
		func(b []byte) []byte { return b },
		func(b []byte) []byte { return b[:rng.IntN(len(b)+1)] },
		func(b []byte) []byte {
			i := rng.IntN(len(b) + 1)
			return slices.Insert(b, i, "= !\t-\r\n"[rng.IntN(7)])
		},
		func(b []byte) []byte { return append(b, "\r\n-- \r\nScanned\r\n"...) },
		func(b []byte) []byte { return append(b, "aGk=\r\n"...) },
	}
	fast := 0
	for i := range 4000 {
		data := make([]byte, rng.IntN(300))
		for j := range data {
			data[j] = byte(rng.Uint32())
		}
		enc := base64.StdEncoding.EncodeToString(data)
		width := []int{76, 64, 72, 4, 1000}[i%5]
		var b []byte
		for len(enc) > width {
			b = append(append(b, enc[:width]...), []string{"\n", "\r\n", "\r"}[i%3]...)
			enc = enc[width:]
		}
		b = damage[rng.IntN(len(damage))](append(b, enc...))
		got, ok := decodeBase64Lines(b)
		if !ok {
			continue
		}
		fast++
		want, bad := decodeBase64Lenient(b)
		if bad || !bytes.Equal(got, want) {
			t.Fatalf("%q: fast %x, lenient %x (bad %v)", b, got, want, bad)
		}
	}
	if fast < 1000 {
		t.Fatalf("only %d of 4000 inputs took the fast path", fast)
	}
}
