package mailin

import (
	"bytes"
	"encoding/base64"
	"flag"
	"fmt"
	"mime/quotedprintable"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// The .eml files in testdata/ are committed; this generator documents how
// the ones in legacy charsets were made and rewrites them all:
//
//	go test ./mailin -run TestGenerateEML -gen-eml
var genEML = flag.Bool("gen-eml", false, "rewrite testdata/*.eml from parse_gen_test.go")

func TestGenerateEML(t *testing.T) {
	if !*genEML {
		t.Skip("run with -gen-eml to rewrite testdata/*.eml")
	}
	files := emlFiles()
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if err := os.WriteFile(filepath.Join("testdata", n), files[n], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("wrote %d files", len(names))
}

// genEnc encodes s in e (test data only; the input is representable).
func genEnc(e encoding.Encoding, s string) []byte {
	b, err := e.NewEncoder().Bytes([]byte(s))
	if err != nil {
		panic(fmt.Sprintf("encode %q: %v", s, err))
	}
	return b
}

// genB64 is base64 in 76-character lines.
func genB64(b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	var out strings.Builder
	for len(s) > 76 {
		out.WriteString(s[:76] + "\n")
		s = s[76:]
	}
	out.WriteString(s + "\n")
	return out.String()
}

func genQP(b []byte) string {
	var out bytes.Buffer
	w := quotedprintable.NewWriter(&out)
	w.Write(b)
	w.Close()
	if s := out.String(); strings.HasSuffix(s, "\n") {
		return s
	}
	return out.String() + "=\n" // a soft line break ends the body cleanly
}

// genBWord and genQWord make RFC 2047 encoded words.
func genBWord(cs string, b []byte) string {
	return "=?" + cs + "?B?" + base64.StdEncoding.EncodeToString(b) + "?="
}

func genQWord(cs string, b []byte) string {
	var out strings.Builder
	for _, c := range b {
		switch {
		case c == ' ':
			out.WriteByte('_')
		case c >= 0x80 || c < 0x20 || c == '=' || c == '?' || c == '_' || c == '"':
			fmt.Fprintf(&out, "=%02X", c)
		default:
			out.WriteByte(c)
		}
	}
	return "=?" + cs + "?Q?" + out.String() + "?="
}

func genPct(b []byte) string {
	var out strings.Builder
	for _, c := range b {
		if c >= 0x80 || c <= ' ' || strings.IndexByte(`*'%()<>@,;:\"/[]?=`, c) >= 0 {
			fmt.Fprintf(&out, "%%%02X", c)
		} else {
			out.WriteByte(c)
		}
	}
	return out.String()
}

// genMail joins header lines and body with CRLF line ends. Parts of raw
// 8-bit bytes are passed as []byte.
func genMail(parts ...any) []byte {
	var b bytes.Buffer
	for _, p := range parts {
		switch p := p.(type) {
		case string:
			b.WriteString(p)
		case []byte:
			b.Write(p)
		}
	}
	// CRLF everywhere (bytes 0x0A inside legacy-charset text are never
	// part of a multibyte sequence in these charsets).
	s := bytes.ReplaceAll(b.Bytes(), []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(s, []byte("\n"), []byte("\r\n"))
}

const genRcvd = "Received: from mx1.customer.test (mx1.customer.test [192.0.2.10])\n" +
	"\tby mx.example.com (Postfix) with ESMTPS id 4T1xyz2abc\n" +
	"\tfor <support@example.com>; Fri, 5 Jan 2024 09:30:02 +0800 (CST)\n"

// fakePDF is a tiny stand-in for a PDF attachment.
var fakePDF = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

// fakePNG is the 8-byte PNG signature plus some bytes.
var fakePNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")

func emlFiles() map[string][]byte {
	gbk := simplifiedchinese.GBK
	gb18030 := simplifiedchinese.GB18030
	big5 := traditionalchinese.Big5
	jis := japanese.ISO2022JP
	f := map[string][]byte{}

	f["zh-gbk-base64.eml"] = genMail(
		"Return-Path: <zhangsan@customer.test>\n", genRcvd,
		"Authentication-Results: mx.example.com;\n\tdkim=pass header.d=customer.test header.s=s1;\n\tspf=pass smtp.mailfrom=customer.test\n",
		"Authentication-Results: mx.example.com; dmarc=pass header.from=customer.test\n",
		"Message-ID: <20240105093000.4F2A1@customer.test>\n",
		"Date: Fri, 5 Jan 2024 09:30:00 +0800\n",
		"From: ", genQWord("gbk", genEnc(gbk, "张三")), " <ZhangSan@Customer.test>\n",
		"To: =?gb2312?B?", base64.StdEncoding.EncodeToString(genEnc(gbk, "技术支持")), "?= <support@example.com>\n",
		"Cc: lisi@customer.test, \"Wang, Wu\" <wangwu@customer.test>\n",
		"Subject: ", genBWord("GB2312", genEnc(gbk, "测试邮件：数据库无法连接")), "\n",
		"X-Mailer: Foxmail 7.2.25.228[cn]\n",
		"MIME-Version: 1.0\n",
		"Content-Type: text/plain;\n\tcharset=\"gbk\"\n",
		"Content-Transfer-Encoding: base64\n",
		"\n",
		genB64(genEnc(gbk, "你好，世界\n数据库服务器从今天早上开始无法连接，请尽快处理。\n\n张三\n")),
	)

	f["zh-gb18030.eml"] = genMail(
		genRcvd,
		"Message-ID: <gb18030.1704418200@customer.test>\n",
		"Date: Fri, 5 Jan 2024 09:30:00 +0800\n",
		"From: ", genBWord("GB18030", genEnc(gb18030, "赵六")), " <zhaoliu@customer.test>\n",
		"To: support@example.com\n",
		"Subject: ", genBWord("GB18030", genEnc(gb18030, "故障报告：𠮷野家门店终端")), "\n",
		"MIME-Version: 1.0\n",
		"Content-Type: text/plain; charset=GB18030\n",
		"Content-Transfer-Encoding: quoted-printable\n",
		"\n",
		genQP(genEnc(gb18030, "设备编号：𠮷-2024-㐀，温度 38℃，价格 €12。\n请安排工程师上门。\n")),
	)

	f["zh-big5.eml"] = genMail(
		genRcvd,
		"Message-ID: <big5-0001@customer.test>\n",
		"Date: Fri, 5 Jan 2024 10:00:00 +0800\n",
		"From: ", genBWord("big5", genEnc(big5, "陳大文")), " <chan@customer.test>\n",
		"To: support@example.com\n",
		"Subject: ", genBWord("big5", genEnc(big5, "系統無法登入")), "\n",
		"MIME-Version: 1.0\n",
		"Content-Type: text/plain; charset=big5\n",
		"Content-Transfer-Encoding: 8bit\n",
		"\n",
		genEnc(big5, "您好，我們的系統從昨天開始無法登入，請協助處理。\n謝謝！\n"),
	)

	f["ja-iso-2022-jp.eml"] = genMail(
		genRcvd,
		"Message-ID: <jp-2024-0105@customer.test>\n",
		"Date: Fri, 5 Jan 2024 11:00:00 +0900\n",
		"From: ", genBWord("ISO-2022-JP", genEnc(jis, "山田太郎")), " <yamada@customer.test>\n",
		"To: support@example.com\n",
		"Subject: ", genBWord("ISO-2022-JP", genEnc(jis, "ログイン障害について")), "\n",
		"MIME-Version: 1.0\n",
		"Content-Type: text/plain; charset=\"ISO-2022-JP\"\n",
		"Content-Transfer-Encoding: 7bit\n",
		"\n",
		genEnc(jis, "お世話になっております。\nログインできません。確認をお願いします。\n"),
	)

	f["windows-1252.eml"] = genMail(
		genRcvd,
		"Message-ID: <cp1252.42@customer.test>\n",
		"Date: Fri, 5 Jan 2024 02:00:00 +0100\n",
		"From: ", genQWord("windows-1252", genEnc(charmap.Windows1252, "François Dupré")), " <francois@customer.test>\n",
		"To: support@example.com\n",
		"Subject: ", genQWord("windows-1252", genEnc(charmap.Windows1252, "Café “invoice” 5 €")), "\n",
		"MIME-Version: 1.0\n",
		"Content-Type: text/plain; charset=windows-1252\n",
		"Content-Transfer-Encoding: quoted-printable\n",
		"\n",
		genQP(genEnc(charmap.Windows1252, "Bonjour,\nle café coûte 5 € – “merci” pour l’aide.\n")),
	)

	f["iso-8859-2.eml"] = genMail(
		genRcvd,
		"Message-ID: <latin2.7@customer.test>\n",
		"Date: Fri, 5 Jan 2024 02:00:00 +0100\n",
		"From: ", genQWord("iso-8859-2", genEnc(charmap.ISO8859_2, "Paweł Łukasz")), " <pawel@customer.test>\n",
		"To: support@example.com\n",
		"Subject: ", genQWord("ISO-8859-2", genEnc(charmap.ISO8859_2, "Zażółć gęślą jaźń")), "\n",
		"MIME-Version: 1.0\n",
		"Content-Type: text/plain; charset=\"iso-8859-2\"\n",
		"Content-Transfer-Encoding: quoted-printable\n",
		"\n",
		genQP(genEnc(charmap.ISO8859_2, "Dzień dobry,\nserwer nie działa. Příliš žluťoučký kůň.\n")),
	)

	// UTF-7 written by hand from the RFC 2152 examples, independent of
	// the encoder under test.
	f["utf-7.eml"] = genMail(
		genRcvd,
		"Message-ID: <utf7.1@customer.test>\n",
		"Date: Fri, 5 Jan 2024 09:30:00 +0000\n",
		"From: Old Client <old@customer.test>\n",
		"To: support@example.com\n",
		"Subject: =?utf-7?Q?+ZeVnLIqe-_report?=\n",
		"MIME-Version: 1.0\n",
		"Content-Type: text/plain; charset=utf-7\n",
		"\n",
		"Hi Mom -+Jjo--!\n",
		"A+ImIDkQ.\n",
		"+ZeVnLIqe-\n",
		"1 +- 1 = 2\n",
	)

	f["attach-rfc2231.eml"] = genMail(
		genRcvd,
		"Message-ID: <rfc2231@customer.test>\n",
		"Date: Fri, 5 Jan 2024 09:30:00 +0800\n",
		"From: Zhang San <zhangsan@customer.test>\n",
		"To: support@example.com\n",
		"Subject: =?UTF-8?B?", base64.StdEncoding.EncodeToString([]byte("附件：错误日志")), "?=\n",
		"MIME-Version: 1.0\n",
		"Content-Type: multipart/mixed; boundary=\"----=_Part_12_345.678\"\n",
		"\n",
		"This is a multi-part message in MIME format.\n",
		"\n",
		"------=_Part_12_345.678\n",
		"Content-Type: text/plain; charset=UTF-8\n",
		"Content-Transfer-Encoding: 8bit\n",
		"\n",
		"请查看附件。\n",
		"\n",
		"------=_Part_12_345.678\n",
		"Content-Type: application/pdf\n",
		"Content-Disposition: attachment;\n",
		" filename*0*=gbk''", genPct(genEnc(gbk, "数据库错误")), ";\n",
		" filename*1*=", genPct(genEnc(gbk, "日志说明")), ";\n",
		" filename*2=\".pdf\"\n",
		"Content-Transfer-Encoding: base64\n",
		"\n",
		genB64(fakePDF),
		"\n",
		"------=_Part_12_345.678\n",
		"Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\n",
		"Content-Disposition: attachment; filename=\"report.xlsx\";\n",
		" filename*=UTF-8''", genPct([]byte("月度报告.xlsx")), "\n",
		"Content-Transfer-Encoding: base64\n",
		"\n",
		genB64([]byte("PK\x03\x04 fake xlsx")),
		"------=_Part_12_345.678--\n",
	)

	f["attach-rfc2047.eml"] = genMail(
		genRcvd,
		"Message-ID: <rfc2047-att@customer.test>\n",
		"Date: Fri, 5 Jan 2024 09:30:00 +0800\n",
		"From: Zhang San <zhangsan@customer.test>\n",
		"To: support@example.com\n",
		"Subject: logs\n",
		"MIME-Version: 1.0\n",
		"Content-Type: multipart/mixed;\n\tboundary=\"=====003_Dragon350727181316_=====\"\n",
		"\n",
		"--=====003_Dragon350727181316_=====\n",
		"Content-Type: text/plain; charset=\"gb2312\"\n",
		"Content-Transfer-Encoding: base64\n",
		"\n",
		genB64(genEnc(gbk, "日志见附件。\n")),
		"\n",
		"--=====003_Dragon350727181316_=====\n",
		"Content-Type: application/octet-stream;\n\tname=\"", genBWord("GBK", genEnc(gbk, "系统日志.zip")), "\"\n",
		"Content-Transfer-Encoding: base64\n",
		"Content-Disposition: attachment;\n\tfilename=\"", genBWord("GBK", genEnc(gbk, "系统日志.zip")), "\"\n",
		"\n",
		genB64([]byte("PK\x03\x04 fake zip")),
		"\n",
		"--=====003_Dragon350727181316_=====\n",
		"Content-Type: image/png; name=\"C:\\Users\\zhang\\Desktop\\screen.png\"\n",
		"Content-Disposition: attachment; filename=\"C:\\Users\\zhang\\Desktop\\screen.png\"\n",
		"Content-Transfer-Encoding: base64\n",
		"\n",
		genB64(fakePNG),
		"\n",
		"--=====003_Dragon350727181316_=====\n",
		"Content-Type: application/octet-stream\n",
		"Content-Disposition: attachment; filename=\"../../etc/passwd\"\n",
		"\n",
		"root:x:0:0\n",
		"--=====003_Dragon350727181316_=====\n",
		"Content-Type: application/octet-stream\n",
		"Content-Disposition: attachment\n",
		"Content-Transfer-Encoding: base64\n",
		"\n",
		genB64([]byte{0, 1, 2, 3}),
		"--=====003_Dragon350727181316_=====--\n",
	)

	f["html-only.eml"] = genMail(
		genRcvd,
		"Message-ID: <html-only@customer.test>\n",
		"Date: Fri, 5 Jan 2024 09:30:00 +0800\n",
		"From: Web Form <form@customer.test>\n",
		"To: support@example.com\n",
		"Subject: HTML only\n",
		"MIME-Version: 1.0\n",
		"Content-Type: text/html; charset=utf-8\n",
		"Content-Transfer-Encoding: quoted-printable\n",
		"\n",
		genQP([]byte("<html><body><p>The <b>backup</b> job failed again.</p><p>Regards,<br>Ops — 运维</p></body></html>\n")),
	)

	f["html-meta-gbk.eml"] = genMail(
		genRcvd,
		"Message-ID: <html-meta@customer.test>\n",
		"Date: Fri, 5 Jan 2024 09:30:00 +0800\n",
		"From: OA System <oa@customer.test>\n",
		"To: support@example.com\n",
		"Subject: =?gbk?B?", base64.StdEncoding.EncodeToString(genEnc(gbk, "网页表单")), "?=\n",
		"MIME-Version: 1.0\n",
		"Content-Type: text/html\n",
		"Content-Transfer-Encoding: 8bit\n",
		"\n",
		genEnc(gbk, "<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=gb2312\"></head>\n<body>打印机无法打印，型号：HP-1020。</body></html>\n"),
	)

	f["alternative.eml"] = genMail(
		genRcvd,
		"Message-ID: <CAF=alt+123@mail.customer.test>\n",
		"In-Reply-To: <case-12-ack@example.com>\n",
		"References: <root-1@customer.test>\n <case-12-ack@example.com>\n",
		"Date: Fri, 5 Jan 2024 09:30:00 +0800\n",
		"From: \"Alice Liddell\" <alice@customer.test>\n",
		"To: Support <support@example.com>\n",
		"Reply-To: alice.work@customer.test\n",
		"Subject: Re: [Case#12] Printer offline\n",
		"MIME-Version: 1.0\n",
		"Content-Type: multipart/alternative; boundary=\"000000000000abcdef0123456789\"\n",
		"\n",
		"--000000000000abcdef0123456789\n",
		"Content-Type: text/plain; charset=\"UTF-8\"\n",
		"Content-Transfer-Encoding: quoted-printable\n",
		"\n",
		genQP([]byte("It is back online, thanks — you can close it.\n\n> On Thu, Support wrote:\n> We are looking into it.\n")),
		"--000000000000abcdef0123456789\n",
		"Content-Type: text/html; charset=\"UTF-8\"\n",
		"Content-Transfer-Encoding: base64\n",
		"\n",
		genB64([]byte("<div dir=\"ltr\">It is back online, thanks — you can close it.</div>\n")),
		"--000000000000abcdef0123456789--\n",
	)

	f["nested.eml"] = genMail(
		genRcvd,
		"Message-ID: <nested.1@customer.test>\n",
		"Date: Fri, 5 Jan 2024 09:30:00 +0800\n",
		"From: Bob <bob@customer.test>\n",
		"To: support@example.com\n",
		"Subject: Screenshot and contract\n",
		"MIME-Version: 1.0\n",
		"Content-Type: multipart/mixed; boundary=\"mixed-b1\"\n",
		"\n",
		"--mixed-b1\n",
		"Content-Type: multipart/alternative; boundary=\"alt-b2\"\n",
		"\n",
		"--alt-b2\n",
		"Content-Type: text/plain; charset=utf-8\n",
		"\n",
		"See the screenshot below.\n",
		"--alt-b2\n",
		"Content-Type: multipart/related; boundary=\"rel-b3\"; type=\"text/html\"\n",
		"\n",
		"--rel-b3\n",
		"Content-Type: text/html; charset=utf-8\n",
		"\n",
		"<p>See the screenshot below.</p><img src=\"cid:shot1@customer.test\">\n",
		"--rel-b3\n",
		"Content-Type: image/png; name=\"shot.png\"\n",
		"Content-ID: <shot1@customer.test>\n",
		"Content-Disposition: inline; filename=\"shot.png\"\n",
		"Content-Transfer-Encoding: base64\n",
		"\n",
		genB64(fakePNG),
		"--rel-b3--\n",
		"\n",
		"--alt-b2--\n",
		"\n",
		"--mixed-b1\n",
		"Content-Type: application/pdf; name=\"contract.pdf\"\n",
		"Content-Disposition: attachment; filename=\"contract.pdf\"\n",
		"Content-Transfer-Encoding: base64\n",
		"\n",
		genB64(fakePDF),
		"--mixed-b1--\n",
		"\n",
	)

	f["forwarded-rfc822.eml"] = genMail(
		genRcvd,
		"Message-ID: <fwd.1@customer.test>\n",
		"Date: Fri, 5 Jan 2024 09:30:00 +0800\n",
		"From: Carol <carol@customer.test>\n",
		"To: support@example.com\n",
		"Subject: Fwd: error from the billing system\n",
		"MIME-Version: 1.0\n",
		"Content-Type: multipart/mixed; boundary=\"fwd-boundary\"\n",
		"\n",
		"--fwd-boundary\n",
		"Content-Type: text/plain; charset=us-ascii\n",
		"\n",
		"Forwarding the message our billing system sent.\n",
		"--fwd-boundary\n",
		"Content-Type: message/rfc822\n",
		"Content-Disposition: attachment\n",
		"\n",
		"From: billing@customer.test\n",
		"To: carol@customer.test\n",
		"Subject: Invoice run failed\n",
		"Message-ID: <inner.1@customer.test>\n",
		"Date: Thu, 4 Jan 2024 23:00:00 +0800\n",
		"\n",
		"Invoice run failed with code 17.\n",
		"--fwd-boundary--\n",
	)

	f["text-attachment.eml"] = genMail(
		genRcvd,
		"Message-ID: <textatt.1@customer.test>\n",
		"Date: Fri, 5 Jan 2024 09:30:00 +0800\n",
		"From: Dave <dave@customer.test>\n",
		"To: support@example.com\n",
		"Subject: log files\n",
		"MIME-Version: 1.0\n",
		"Content-Type: multipart/mixed; boundary=\"b-text\"\n",
		"\n",
		"--b-text\n",
		"Content-Type: text/plain; charset=utf-8\n",
		"\n",
		"Two logs attached.\n",
		"--b-text\n",
		"Content-Type: text/plain; charset=utf-8; name=\"server.log\"\n",
		"\n",
		"2024-01-05 09:00:01 ERROR connection refused\n",
		"--b-text\n",
		"Content-Type: text/plain; charset=utf-8\n",
		"Content-Disposition: inline; filename=\"config.txt\"\n",
		"\n",
		"listen = 0.0.0.0:8080\n",
		"--b-text--\n",
	)

	f["multi-inline-text.eml"] = genMail(
		genRcvd,
		"Message-ID: <inline-text.1@customer.test>\n",
		"Date: Fri, 5 Jan 2024 09:30:00 +0800\n",
		"From: Erin <erin@customer.test>\n",
		"To: support@example.com\n",
		"Subject: photo of the device\n",
		"MIME-Version: 1.0\n",
		"Content-Type: multipart/mixed; boundary=\"Apple-Mail=_B2C1\"\n",
		"\n",
		"--Apple-Mail=_B2C1\n",
		"Content-Transfer-Encoding: 7bit\n",
		"Content-Type: text/plain; charset=us-ascii\n",
		"\n",
		"Part one: here is the device.\n",
		"--Apple-Mail=_B2C1\n",
		"Content-Disposition: inline; filename=IMG_0001.jpg\n",
		"Content-Type: image/jpeg; name=\"IMG_0001.jpg\"\n",
		"Content-Transfer-Encoding: base64\n",
		"\n",
		genB64([]byte("\xff\xd8\xff\xe0 fake jpeg")),
		"--Apple-Mail=_B2C1\n",
		"Content-Transfer-Encoding: 7bit\n",
		"Content-Type: text/plain; charset=us-ascii\n",
		"\n",
		"Part two: the label is on the back.\n",
		"--Apple-Mail=_B2C1--\n",
	)

	// Malformed mail.
	f["bad-missing-close-boundary.eml"] = genMail(
		genRcvd,
		"Message-ID: <noclose.1@customer.test>\n",
		"Date: Fri, 5 Jan 2024 09:30:00 +0800\n",
		"From: Frank <frank@customer.test>\n",
		"To: support@example.com\n",
		"Subject: truncated upload\n",
		"MIME-Version: 1.0\n",
		"Content-Type: multipart/mixed; boundary=\"cut-here\"\n",
		"\n",
		"--cut-here\n",
		"Content-Type: text/plain; charset=utf-8\n",
		"\n",
		"The disk array reports a failed drive.\n",
		"--cut-here\n",
		"Content-Type: application/octet-stream; name=\"dump.bin\"\n",
		"Content-Transfer-Encoding: base64\n",
		"\n",
		"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
	)

	f["bad-boundary-mismatch.eml"] = genMail(
		genRcvd,
		"Message-ID: <mismatch.1@customer.test>\n",
		"Date: Fri, 5 Jan 2024 09:30:00 +0800\n",
		"From: Grace <grace@customer.test>\n",
		"To: support@example.com\n",
		"Subject: boundary mismatch\n",
		"MIME-Version: 1.0\n",
		"Content-Type: multipart/alternative; boundary=\"declared-AAA\"\n",
		"\n",
		"--actual-BBB\n",
		"Content-Type: text/plain; charset=utf-8\n",
		"\n",
		"The VPN drops every ten minutes.\n",
		"--actual-BBB--\n",
	)

	f["bad-boundary-absent.eml"] = genMail(
		genRcvd,
		"Message-ID: <absent.1@customer.test>\n",
		"Date: Fri, 5 Jan 2024 09:30:00 +0800\n",
		"From: Hank <hank@customer.test>\n",
		"To: support@example.com\n",
		"Subject: multipart without parts\n",
		"MIME-Version: 1.0\n",
		"Content-Type: multipart/mixed; boundary=\"gone\"\n",
		"\n",
		"The gateway stripped the MIME structure; the router is still down.\n",
	)

	f["bad-no-boundary-param.eml"] = genMail(
		genRcvd,
		"Message-ID: <noparam.1@customer.test>\n",
		"Date: Fri, 5 Jan 2024 09:30:00 +0800\n",
		"From: Heidi <heidi@customer.test>\n",
		"To: support@example.com\n",
		"Subject: no boundary parameter\n",
		"MIME-Version: 1.0\n",
		"Content-Type: multipart/mixed\n",
		"\n",
		"--XyZ123\n",
		"Content-Type: text/plain; charset=utf-8\n",
		"\n",
		"Email sync stopped after the update.\n",
		"--XyZ123\n",
		"Content-Type: text/csv; name=\"sync.csv\"\n",
		"\n",
		"account,status\n",
		"heidi,failed\n",
		"--XyZ123--\n",
	)

	f["bad-base64.eml"] = genMail(
		genRcvd,
		"Message-ID: <badb64.1@customer.test>\n",
		"Date: Fri, 5 Jan 2024 09:30:00 +0800\n",
		"From: Ivan <ivan@customer.test>\n",
		"To: support@example.com\n",
		"Subject: broken base64\n",
		"MIME-Version: 1.0\n",
		"Content-Type: text/plain; charset=utf-8\n",
		"Content-Transfer-Encoding: base64\n",
		"\n",
		// "The license server is down since 8:00.\n" then garbage and a
		// cut-off last group.
		base64.StdEncoding.EncodeToString([]byte("The license server is down since 8:00.\n")), "\n",
		"!!!### not base64 ###!!!\n",
		"SGVscA", "\n",
		"Q\n",
	)

	f["bad-unknown-charset.eml"] = genMail(
		genRcvd,
		"Message-ID: <unkcs.1@customer.test>\n",
		"Date: Fri, 5 Jan 2024 09:30:00 +0800\n",
		"From: =?x-klingon?Q?Judy_Q?= <judy@customer.test>\n",
		"To: support@example.com\n",
		"Subject: =?x-klingon?Q?Hello_World?=\n",
		"MIME-Version: 1.0\n",
		"Content-Type: text/plain; charset=\"x-klingon\"\n",
		"Content-Transfer-Encoding: 8bit\n",
		"\n",
		"Printer on floor 3 is jammed.\n",
	)

	f["bad-unknown-cte.eml"] = genMail(
		genRcvd,
		"Message-ID: <unkcte.1@customer.test>\n",
		"Date: Fri, 5 Jan 2024 09:30:00 +0800\n",
		"From: Ken <ken@customer.test>\n",
		"To: support@example.com\n",
		"Subject: unknown transfer encoding\n",
		"MIME-Version: 1.0\n",
		"Content-Type: text/plain; charset=utf-8\n",
		"Content-Transfer-Encoding: x-rot13\n",
		"\n",
		"The badge reader at gate 2 rejects all cards.\n",
	)

	f["bad-missing-headers.eml"] = genMail(
		"To: support@example.com\n",
		"Subject: no sender, no date, no id\n",
		"\n",
		"Someone forgot the headers; the backup still failed.\n",
	)

	f["bad-raw-8bit-headers.eml"] = genMail(
		genRcvd,
		"Message-ID: <raw8bit.1@customer.test>\n",
		"Date: Fri, 5 Jan 2024 09:30:00 +0800\n",
		"From: ", genEnc(gbk, "李四"), " <lisi@customer.test>\n",
		"To: support@example.com\n",
		"Subject: ", genEnc(gbk, "服务器宕机"), "\n",
		"MIME-Version: 1.0\n",
		"Content-Type: text/plain\n",
		"Content-Transfer-Encoding: 8bit\n",
		"\n",
		genEnc(gbk, "服务器今天凌晨宕机，请尽快联系。\n"),
	)

	f["bad-no-separator.eml"] = genMail(
		"Message-ID: <nosep.1@customer.test>\n",
		"Date: Fri, 5 Jan 2024 09:30:00 +0800\n",
		"From: Leo <leo@customer.test>\n",
		"Subject: no empty line\n",
		"The scanner on floor 2 is offline.\n",
		"Leo\n",
	)

	f["bad-nested-unclosed.eml"] = genMail(
		genRcvd,
		"Message-ID: <nestbad.1@customer.test>\n",
		"Date: Fri, 5 Jan 2024 09:30:00 +0800\n",
		"From: Mia <mia@customer.test>\n",
		"To: support@example.com\n",
		"Subject: nested and cut\n",
		"MIME-Version: 1.0\n",
		"Content-Type: multipart/mixed; boundary=outer\n",
		"\n",
		"--outer\n",
		"Content-Type: multipart/alternative; boundary=inner\n",
		"\n",
		"--inner\n",
		"Content-Type: text/plain; charset=utf-8\n",
		"\n",
		"Payroll export hangs at 99%.\n",
		"--inner\n",
		"Content-Type: text/html; charset=utf-8\n",
		"\n",
		"<p>Payroll export hangs at 99%.</p>\n",
	)

	// Automatic mail.
	person := func(extra, subject string) []byte {
		return genMail(
			genRcvd,
			"Message-ID: <auto-", fmt.Sprint(len(f)), "@customer.test>\n",
			"Date: Fri, 5 Jan 2024 09:30:00 +0800\n",
			extra,
			"To: support@example.com\n",
			"Subject: ", subject, "\n",
			"MIME-Version: 1.0\n",
			"Content-Type: text/plain; charset=utf-8\n",
			"\n",
			"Message body.\n",
		)
	}
	f["auto-submitted.eml"] = person("From: Nina <nina@customer.test>\nAuto-Submitted: auto-replied\n", "Re: [Case#12] Printer offline")
	f["auto-submitted-generated.eml"] = person("From: Monitor <monitor@customer.test>\nAuto-Submitted: Auto-Generated; owner-email=\"ops@customer.test\"\n", "Disk usage 91%")
	f["auto-precedence-bulk.eml"] = person("From: News <news@customer.test>\nPrecedence: bulk\n", "Our January newsletter")
	f["auto-list-id.eml"] = person("From: Olga <olga@customer.test>\nList-Id: Users of the product <users.lists.customer.test>\n", "[users] question about export")
	f["auto-list-unsubscribe.eml"] = person("From: Shop <offers@customer.test>\nList-Unsubscribe: <mailto:unsubscribe@customer.test?subject=unsubscribe>\n", "Special offers")
	f["auto-null-sender.eml"] = person("Return-Path: <>\nFrom: Notifications <notify@customer.test>\n", "Delivery Status Notification (Failure)")
	f["auto-mailer-daemon.eml"] = person("From: Mail Delivery System <MAILER-DAEMON@mx1.customer.test>\n", "Undelivered Mail Returned to Sender")
	f["auto-x-autoreply.eml"] = person("From: Pat <pat@customer.test>\nX-Autoreply: yes\n", "Re: your message")
	f["auto-x-loop.eml"] = person("From: Tickets <tickets@customer.test>\nX-Loop: tickets@customer.test\n", "[Ticket#884] Re: Printer offline")
	f["auto-exchange.eml"] = person("From: Quinn <quinn@customer.test>\nX-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent\n", "RE: Printer offline")
	f["auto-ooo-en.eml"] = person("From: Rita <rita@customer.test>\nX-Auto-Response-Suppress: All\n", "Automatic reply: [Case#12] Printer offline")
	f["auto-ooo-zh.eml"] = person("From: "+genBWord("UTF-8", []byte("孙七"))+" <sunqi@customer.test>\n",
		genBWord("UTF-8", []byte("自动回复: [Case#12] 打印机离线")))
	f["auto-ooo-zh-gbk.eml"] = person("From: Zhou <zhou@customer.test>\n",
		genBWord("gbk", genEnc(gbk, "自动答复：[Case#12] 打印机离线")))
	f["person-auto-submitted-no.eml"] = person("From: Sam <sam@customer.test>\nAuto-Submitted: No\n", "Printer offline again")
	f["person-x-auto-response-suppress.eml"] = person("From: Tom <tom@customer.test>\nX-Auto-Response-Suppress: All\nX-MS-Has-Attach: \nThread-Topic: Printer\n", "Printer offline on floor 4")
	f["person-auto-words.eml"] = person("From: Uma <uma@customer.test>\n", "Auto reply rules do not work in the web client")
	// A DSN from a normal-looking sender without Return-Path: <>, so
	// that multipart/report alone decides.
	f["auto-dsn-report.eml"] = genMail(
		genRcvd,
		"Message-ID: <dsn.20240105@mx1.customer.test>\n",
		"Date: Fri, 5 Jan 2024 09:31:00 +0800\n",
		"From: Mail System <mail@mx1.customer.test>\n",
		"To: support@example.com\n",
		"Subject: Delivery Status Notification\n",
		"MIME-Version: 1.0\n",
		"Content-Type: multipart/report; report-type=delivery-status;\n\tboundary=\"dsn-b\"\n",
		"\n",
		"--dsn-b\n",
		"Content-Type: text/plain; charset=us-ascii\n",
		"\n",
		"Your message could not be delivered to nobody@customer.test.\n",
		"--dsn-b\n",
		"Content-Type: message/delivery-status\n",
		"\n",
		"Reporting-MTA: dns; mx1.customer.test\n",
		"\n",
		"Final-Recipient: rfc822; nobody@customer.test\n",
		"Action: failed\n",
		"Status: 5.1.1\n",
		"--dsn-b\n",
		"Content-Type: text/rfc822-headers\n",
		"\n",
		"Message-ID: <case-12-ack@example.com>\n",
		"Subject: [Case#12] We received your request\n",
		"--dsn-b--\n",
	)
	return f
}
