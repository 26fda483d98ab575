package mailin

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
	"golang.org/x/text/encoding/unicode"
)

func detEnc(t *testing.T, e encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := e.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDetectCharset(t *testing.T) {
	long := "您好，我們公司的系統從昨天晚上開始無法連線，所有的同事都沒有辦法登入，請盡快處理。"
	tests := []struct {
		name  string
		in    []byte
		hints []string
		want  string
	}{
		{"utf-8", []byte("Frösche"), nil, "utf-8"},
		{"latin-1 word, no hints", []byte("Fr\xf6sche"), nil, "windows-1252"},
		{"latin-1 word, gbk declared elsewhere", []byte("Fr\xf6sche"), []string{"gbk"}, "windows-1252"},
		{"latin-1 pair, not common GB rows", []byte("Gr\xf6\xdfe"), nil, "windows-1252"},
		{"gbk name", detEnc(t, simplifiedchinese.GBK, "李四"), nil, "gb18030"},
		{"gbk one character", detEnc(t, simplifiedchinese.GBK, "好"), nil, "gb18030"},
		{"big5 declared elsewhere", detEnc(t, traditionalchinese.Big5, "系統"), []string{"big5"}, "big5"},
		{"hint that does not decode is passed over", detEnc(t, simplifiedchinese.GBK, "服务器"), []string{"shift_jis", "gbk"}, "gbk"},
		{"single-byte hint", []byte("Dobr\xfd den"), []string{"iso-8859-2"}, "iso-8859-2"},
		{"single-byte hint first, latin text", []byte("za\xbf\xf3\xb3\xe6 g\xea\xb6l\xb1 ja\xbc\xf1"), []string{"iso-8859-2", "gbk"}, "iso-8859-2"},
		{"single-byte hint first, gbk text", detEnc(t, simplifiedchinese.GBK, "服务器宕机"), []string{"koi8-r", "gbk"}, "gbk"},
		{"long big5, detector", detEnc(t, traditionalchinese.Big5, long), nil, "big5"},
		{"long shift_jis, detector", detEnc(t, japanese.ShiftJIS, "お世話になっております。先日ご依頼いただいた件ですが、まだエラーが出ております。"), nil, "shift_jis"},
		{"long euc-kr, detector", detEnc(t, korean.EUCKR, "안녕하세요. 어제부터 시스템에 로그인할 수 없습니다. 빠른 확인 부탁드립니다."), nil, "euc-kr"},
		{"long koi8-r, detector", detEnc(t, charmap.KOI8R, "Здравствуйте! Наш сервер перестал отвечать сегодня утром."), nil, "koi8-r"},
		{"iso-2022-jp escapes", detEnc(t, japanese.ISO2022JP, "日本語"), nil, "iso-2022-jp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parseWantEq(t, "detectCharset", detectCharset(tt.in, tt.hints), tt.want)
		})
	}
}

func TestDeclaredCharsets(t *testing.T) {
	raw := []byte("Subject: =?GB2312?B?suLK1A==?= =?utf-8?q?x?=\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n" +
		"Content-Type: text/plain; charset=\"ISO-8859-2\"\r\n\r\nx\r\n--b\r\nContent-Type: text/html; CHARSET=cp950\r\n\r\n" +
		"<meta charset=x-martian>\r\n--b--\r\n")
	parseWantEq(t, "declaredCharsets", strings.Join(declaredCharsets(raw), " "), "gb2312 iso-8859-2 big5")
}

func TestCharsetLies(t *testing.T) {
	tests := []struct {
		name, label string
		in          []byte
		hints       []string
		want        string
	}{
		{"latin-1 label, windows-1252 bytes", "iso-8859-1", []byte("\x93quoted\x94 \x80 5"), nil, "“quoted” € 5"},
		{"latin-1 label, utf-8 bytes", "ISO-8859-1", []byte("Grüße"), nil, "Grüße"},
		{"latin-1 label, gbk bytes, gbk declared", "iso-8859-1", detEnc(t, simplifiedchinese.GBK, "报价单"), []string{"gbk"}, "报价单"},
		{"latin-1 label, gbk bytes, nothing declared", "iso-8859-1", detEnc(t, simplifiedchinese.GBK, "关于合同续签"), nil, "关于合同续签"},
		{"latin-1 label, real latin-1", "iso-8859-1", []byte("Gr\xf6\xdfe aus K\xf6ln"), []string{"gbk"}, "Größe aus Köln"},
		{"no label, parent charset", "", detEnc(t, charmap.ISO8859_2, "Łódź"), []string{"iso-8859-2"}, "Łódź"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _ := charsetToUTF8(tt.label, tt.in, tt.hints...)
			parseWantEq(t, "decoded", got, tt.want)
		})
	}
}

func TestDecodeUTF16Words(t *testing.T) {
	word := func(enc encoding.Encoding, label, s string) string {
		return "=?" + label + "?B?" + base64.StdEncoding.EncodeToString(detEnc(t, enc, s)) + "?="
	}
	bom := unicode.UTF16(unicode.BigEndian, unicode.UseBOM)
	in := word(bom, "utf-16", "Zamó") + " " + word(bom, "utf-16", "wienie") + " " + word(bom, "UTF-16", " 77")
	got, p := decodeHeaderText(in)
	parseWantEq(t, "decoded", got, "Zamówienie 77")
	parseWantEq(t, "problem", p, "")
}

func TestReadHeaderInvalidLines(t *testing.T) {
	tests := []struct {
		name, in       string
		subject, body  string
		problem        string
		wantNoProblems bool
	}{
		{"junk inside the header", "From: a@b.test\r\nX Bad Name: 1\r\nSubject: s\r\n\r\nbody\r\n", "s", "body\r\n", "invalid header line skipped", false},
		{"junk with continuation", "From: a@b.test\r\njunk\r\n more junk\r\nSubject: s\r\n\r\nbody\r\n", "s", "body\r\n", "invalid header line skipped", false},
		{"text without the empty line is the body", "From: a@b.test\r\nSubject: s\r\nHello there.\r\nNote: call me\r\n", "s", "Hello there.\r\nNote: call me\r\n", "not ended by an empty line", false},
		{"obsolete space before colon", "From: a@b.test\r\nSubject : s\r\n\r\nbody", "s", "body", "", true},
		{"byte-order mark", "\xef\xbb\xbfSubject: s\r\n\r\nbody", "s", "body", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, body, probs := readHeader([]byte(tt.in), true)
			parseWantEq(t, "Subject", h.Get("Subject"), tt.subject)
			parseWantEq(t, "body", string(body), tt.body)
			joined := strings.Join(probs, "; ")
			if tt.wantNoProblems {
				parseWantEq(t, "problems", joined, "")
			} else if !strings.Contains(joined, tt.problem) {
				t.Errorf("problems %q, want one containing %q", joined, tt.problem)
			}
		})
	}
}

func TestParseNoHeaderKeepsText(t *testing.T) {
	gbk := detEnc(t, simplifiedchinese.GBK, "服务器宕机了，请联系我。")
	for name, tt := range map[string]struct {
		in   []byte
		want string
	}{
		"plain text":     {[]byte("just some text\r\nand more\r\n"), "just some text\nand more\n"},
		"body only":      {[]byte("\r\nbody after an empty line\r\n"), "\nbody after an empty line\n"},
		"undeclared gbk": {gbk, "服务器宕机了，请联系我。"},
		"bom":            {[]byte("\xef\xbb\xbfnotes without header"), "notes without header"},
	} {
		t.Run(name, func(t *testing.T) {
			m, err := Parse(strings.NewReader(string(tt.in)), ParseOptions{})
			if m != nil || !errors.Is(err, ErrNoHeader) {
				t.Fatalf("Parse = %v, %v; want ErrNoHeader", m, err)
			}
			var nh *NoHeaderError
			if !errors.As(err, &nh) {
				t.Fatalf("error %T is no *NoHeaderError", err)
			}
			parseWantEq(t, "Text", nh.Text, tt.want)
			parseWantEq(t, "Error", err.Error(), "parse message: no header")
		})
	}
}

func TestParseBareCR(t *testing.T) {
	m, err := Parse(strings.NewReader("From: Ann <ann@customer.test>\rSubject: cr\rAuto-Submitted: auto-replied\r\rline 1\rline 2\r"), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	parseWantEq(t, "Subject", m.Subject, "cr")
	parseWantEq(t, "From.Addr", m.From.Addr, "ann@customer.test")
	parseWantEq(t, "Text", m.Text, "line 1\nline 2\n")
	parseWantEq(t, "Auto", m.Auto, "auto-submitted: auto-replied")
	parseWantProblem(t, m, "bare CR")

	// CR CR LF (a CRLF file converted once more) is one line end.
	m, err = Parse(strings.NewReader("From: Ann <ann@customer.test>\r\r\nSubject: crcrlf\r\r\n\r\r\nline 1\r\r\n"), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	parseWantEq(t, "Subject", m.Subject, "crcrlf")
	parseWantEq(t, "From.Addr", m.From.Addr, "ann@customer.test")
	parseWantContains(t, "Text", m.Text, "line 1")

	// A long run of CRs is read in linear time (the fuzz test bounds it).
	m, err = Parse(strings.NewReader("Subject: runs\r"+strings.Repeat("\r", 1<<20)+"x"), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	parseWantEq(t, "Subject", m.Subject, "runs")
}

func BenchmarkParseUndeclared8bit(b *testing.B) {
	body := strings.Repeat("服务器今天凌晨宕机，请尽快联系。我们的数据库无法连接。\n", 20000)
	gbk, err := simplifiedchinese.GBK.NewEncoder().String(body)
	if err != nil {
		b.Fatal(err)
	}
	raw := "From: a@customer.test\r\nSubject: big\r\nContent-Type: text/plain\r\n\r\n" + gbk
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := Parse(strings.NewReader(raw), ParseOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
