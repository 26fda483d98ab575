package templates

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
