package templates

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBuiltinRender(t *testing.T) {
	s, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	d := sample
	d.Case.Token = "[Case#42]"
	d.Case.Subject = "[Case#42] 打印机故障"
	tests := []struct {
		lang, name string
		subject    string
		body       []string
	}{
		{"zh", "ack", "[Case#42] 打印机故障", []string{"已为您开启服务单 [Case#42]", "30 分钟"}},
		{"en", "ack", "[Case#42] 打印机故障", []string{"opened case [Case#42]", "30 minutes", "Your contact: Li <li@example.com>"}},
		{"zh", "notify_new", "新服务单 [Case#42] 打印机故障", []string{"公司：ACME", "故障描述："}},
		{"en", "command_error", "Command not done [Case#42] 打印机故障", []string{"- bad", "nothing on the case changed"}},
		{"xx", "ack", "[Case#42] 打印机故障", []string{"您好"}}, // unknown language falls back to zh
	}
	for _, tt := range tests {
		t.Run(tt.lang+"/"+tt.name, func(t *testing.T) {
			d := d
			d.Duration = Duration(tt.lang, 30*time.Minute)
			subj, body, err := s.Render(tt.lang, tt.name, d)
			if err != nil {
				t.Fatal(err)
			}
			if subj != tt.subject {
				t.Errorf("subject = %q, want %q", subj, tt.subject)
			}
			for _, w := range tt.body {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q:\n%s", w, body)
				}
			}
		})
	}
}

func TestOverride(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "en"), 0o755)
	os.WriteFile(filepath.Join(dir, "en", "ack.tmpl"), []byte(`{{define "subject"}}Got it {{.Case.Token}}{{end}}{{define "body"}}Hello {{.Recipient.Name}}{{end}}`), 0o644)
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	subj, body, _ := s.Render("en", "ack", sample)
	if subj != "Got it [Case#1]" || body != "Hello Alice\n" {
		t.Fatalf("override not used: %q %q", subj, body)
	}
	// zh still comes from the built-in set.
	if _, body, _ := s.Render("zh", "ack", sample); !strings.Contains(body, "您好") {
		t.Fatalf("zh not built in: %q", body)
	}
}

func TestBrokenOverride(t *testing.T) {
	tests := []struct{ name, file, src, want string }{
		{"syntax", "ack.tmpl", `{{define "subject"}}{{.Case.Token}{{end}}`, "ack.tmpl"},
		{"missing body", "ack.tmpl", `{{define "subject"}}x{{end}}`, `no {{define "body"}}`},
		{"unknown field", "status.tmpl", `{{define "subject"}}{{.Case.Nope}}{{end}}{{define "body"}}x{{end}}`, "Nope"},
		{"unknown file", "acknowledge.tmpl", `{{define "subject"}}x{{end}}{{define "body"}}x{{end}}`, `no template named "acknowledge"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			os.MkdirAll(filepath.Join(dir, "zh"), 0o755)
			os.WriteFile(filepath.Join(dir, "zh", tt.file), []byte(tt.src), 0o644)
			_, err := Load(dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tt.want)
			}
		})
	}
}

func TestDurationAndReasonWords(t *testing.T) {
	tests := []struct {
		lang string
		d    time.Duration
		want string
	}{
		{"zh", 30 * time.Minute, "30 分钟"},
		{"en", 30 * time.Minute, "30 minutes"},
		{"en", time.Hour, "1 hour"},
		{"en", 90 * time.Minute, "1 hour 30 minutes"},
		{"zh", 168 * time.Hour, "7 天"},
		{"en", 168 * time.Hour, "7 days"},
		{"zh", 45 * time.Second, "45 秒"},
	}
	for _, tt := range tests {
		if got := Duration(tt.lang, tt.d); got != tt.want {
			t.Errorf("Duration(%s, %v) = %q, want %q", tt.lang, tt.d, got, tt.want)
		}
	}
	// Every reason code has words in both languages, and the Chinese ones
	// carry no English words or Go duration syntax.
	for code := range reasons["en"] {
		zh := ReasonText("zh", code, Data{Who: "eng1@example.com", Duration: "30 分钟", Level: 1, Date: "2026-12-02"})
		if zh == code || strings.Contains(zh, "%!") || strings.Contains(zh, "m0s") {
			t.Errorf("zh %s = %q", code, zh)
		}
		if _, ok := reasons["zh"][code]; !ok {
			t.Errorf("no zh words for %s", code)
		}
	}
	if got := ReasonText("zh", "stuck", Data{Duration: Duration("zh", 30*time.Minute)}); !strings.Contains(got, "30 分钟") {
		t.Errorf("stuck reason = %q", got)
	}
}
