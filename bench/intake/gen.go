package main

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"math"
	"math/rand/v2"
	"mime"
	"strings"
	"time"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// genMail is one generated customer mail.
type genMail struct {
	raw       []byte
	messageID string
	from      string
	newCase   bool // threads into no earlier mail
}

// charsets the generator writes, each with text a customer of that region
// would send, and the transfer encoding their mail clients use: GBK and
// Big5 bodies in base64 (Foxmail, Outlook), ISO-2022-JP in 7bit (RFC
// 1468), UTF-8 in base64.
var charsets = []struct {
	name, cte string
	enc       encoding.Encoding
	subject   []string
	body      string
}{
	{"GBK", "base64", simplifiedchinese.GBK,
		[]string{"服务器无法启动", "数据库连接超时", "系统升级后报错", "备份任务失败"},
		"您好，我们的生产系统今天上午出现故障，日志中有大量错误，请尽快安排工程师处理。附上详细说明。"},
	{"Big5", "base64", traditionalchinese.Big5,
		[]string{"系統無法登入", "網路連線中斷", "報表產生錯誤", "磁碟空間不足"},
		"您好，我們的系統從昨天開始無法正常運作，使用者反映登入時出現錯誤訊息，請協助處理。"},
	{"ISO-2022-JP", "7bit", japanese.ISO2022JP,
		[]string{"サーバーが起動しません", "ログインできません", "エラーが発生しました"},
		"お世話になっております。本日午前よりシステムに障害が発生しております。至急ご対応をお願いいたします。"},
	{"UTF-8", "base64", nil,
		[]string{"Server down after update", "服务中断 / service outage", "Licence error on node 3"},
		"Hello, since this morning our cluster rejects connections; 日志见下文. Please call us back. "},
}

var customers = []string{"alice@acme.test", "bob@acme.test", "carol@globex.test", "dave@acme.test",
	"erin@globex.test", "frank@acme.test", "grace@globex.test", "heidi@acme.test"}

// generate writes n mails, deterministic for a seed: sizes from 2 KB to
// 2 MB (most a few KB, as in a real support mailbox), the four charsets in
// turn, a tenth with an attachment, a third answering an earlier mail (by
// the case token in the subject or by References).
func generate(n int, seed uint64, start time.Time) []genMail {
	r := rand.New(rand.NewPCG(seed, 1))
	var out []genMail
	var opened []int // indexes of mails that opened a case, in order
	for i := 0; i < n; i++ {
		cs := charsets[i%len(charsets)]
		// Text mails of 2 to 64 KB (2 KB · 32^(u²), most near the low end);
		// mails with an attachment of 16 KB to 2 MB (16 KB · 128^(u³)).
		size := int(2048 * math.Pow(32, math.Pow(r.Float64(), 2)))
		withAttachment := i%10 == 7
		if withAttachment {
			size = int(16384 * math.Pow(128, math.Pow(r.Float64(), 3)))
		}
		// Some 960 people at the two companies (a name of the list with a
		// number): a desk's mail comes from many senders, not eight.
		c := customers[r.IntN(len(customers))]
		local, domain, _ := strings.Cut(c, "@")
		from := fmt.Sprintf("%s%d@%s", local, r.IntN(120), domain)
		m := genMail{messageID: fmt.Sprintf("gen%d.%d@%s", i, seed, domainOf(from)), from: from}
		subject := cs.subject[r.IntN(len(cs.subject))]
		var refs string
		if i%3 == 2 && len(opened) > 0 {
			k := r.IntN(len(opened))
			prev := out[opened[k]]
			from = prev.from
			m.from = from
			if r.IntN(2) == 0 {
				subject = fmt.Sprintf("Re: [Case#%d] %s", k+1, subject)
			} else {
				subject = "Re: " + subject
				refs = "<" + prev.messageID + ">"
			}
		} else {
			m.newCase = true
			opened = append(opened, i)
		}
		var b bytes.Buffer
		date := start.Add(time.Duration(i) * time.Second)
		fmt.Fprintf(&b, "From: %s\r\nTo: Support <support@example.test>\r\nDate: %s\r\nMessage-ID: <%s>\r\n",
			from, date.Format(time.RFC1123Z), m.messageID)
		if refs != "" {
			fmt.Fprintf(&b, "In-Reply-To: %s\r\nReferences: %s\r\n", refs, refs)
		}
		fmt.Fprintf(&b, "Subject: %s\r\nMIME-Version: 1.0\r\nUser-Agent: Bench/1.0\r\n", encodeWord(cs.name, cs.enc, subject))
		body := strings.Repeat(cs.body+"\n", max(1, size/len(cs.body)))
		if withAttachment {
			att := make([]byte, size*3/4)
			for j := range att {
				att[j] = byte(r.Uint32())
			}
			fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n--b%d\r\n", i, i)
			writeText(&b, cs.name, cs.cte, cs.enc, cs.body)
			fmt.Fprintf(&b, "--b%d\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n",
				i, mime.QEncoding.Encode("utf-8", fmt.Sprintf("日志-%d.bin", i)))
			writeBase64(&b, att)
			fmt.Fprintf(&b, "--b%d--\r\n", i)
		} else {
			writeText(&b, cs.name, cs.cte, cs.enc, body)
		}
		m.raw = b.Bytes()
		out = append(out, m)
	}
	return out
}

func domainOf(addr string) string {
	_, d, _ := strings.Cut(addr, "@")
	return d
}

// encodeWord writes s as an RFC 2047 encoded word in the charset.
func encodeWord(name string, enc encoding.Encoding, s string) string {
	b := []byte(s)
	if enc != nil {
		b, _ = enc.NewEncoder().Bytes(b)
	}
	return "=?" + name + "?B?" + base64.StdEncoding.EncodeToString(b) + "?="
}

func writeText(b *bytes.Buffer, name, cte string, enc encoding.Encoding, text string) {
	data := []byte(strings.ReplaceAll(text, "\n", "\r\n"))
	if enc != nil {
		data, _ = enc.NewEncoder().Bytes([]byte(text))
		data = bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))
	}
	fmt.Fprintf(b, "Content-Type: text/plain; charset=%s\r\nContent-Transfer-Encoding: %s\r\n\r\n", name, cte)
	if cte == "base64" {
		writeBase64(b, data)
		return
	}
	b.Write(data)
	b.WriteString("\r\n")
}

// writeBase64 writes data in lines of 76 characters (RFC 2045 6.8).
func writeBase64(b *bytes.Buffer, data []byte) {
	enc := base64.StdEncoding.EncodeToString(data)
	for len(enc) > 76 {
		b.WriteString(enc[:76])
		b.WriteString("\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc)
	b.WriteString("\r\n")
}
