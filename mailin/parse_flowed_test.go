package mailin

import (
	"strings"
	"testing"
)

func TestUnflow(t *testing.T) {
	tests := []struct {
		name, in string
		delsp    bool
		want     string
	}{
		{"soft break joined", "one \ntwo\n", false, "one two\n"},
		{"fixed lines kept", "one\ntwo\n", false, "one\ntwo\n"},
		{"delsp removes the space", "日本語の \n文章\n", true, "日本語の文章\n"},
		{"space-stuffing dropped", " From here\n", false, "From here\n"},
		{"signature separator stays", "Thanks \n-- \nBob\n", false, "Thanks \n-- \nBob\n"},
		{"quoted paragraph joined", "> a long \n> line\nreply\n", false, "> a long line\nreply\n"},
		{"depth change ends paragraph", "> a \n>> b\n", false, "> a \n>> b\n"},
		{"empty quoted line", ">\n> x\n", false, ">\n> x\n"},
		{"no trailing newline", "a \nb", false, "a b"},
	}
	for _, tt := range tests {
		if got := unflow(tt.in, tt.delsp); got != tt.want {
			t.Errorf("%s: unflow(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestParseFlowed(t *testing.T) {
	raw := "From: a@example.com\r\nSubject: x\r\nContent-Type: text/plain; charset=utf-8; format=flowed; delsp=yes\r\n\r\nab \r\ncd\r\n"
	m, err := Parse(strings.NewReader(raw), ParseOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(m.Text); got != "abcd" {
		t.Errorf("Text = %q, want %q", got, "abcd")
	}
}
