package mailin

import "testing"

// TestLyingLabels covers text whose label and bytes disagree plainly.
func TestLyingLabels(t *testing.T) {
	tests := []struct {
		name, label string
		in          []byte
		want        string
	}{
		{"utf-8 label, latin-1 bytes", "utf-8", []byte("Gr\xfc\xdfe aus M\xfcnchen"), "Grüße aus München"},
		{"utf-8 label, one stray byte stays replaced", "utf-8", []byte("ab\xffc"), "ab\uFFFDc"},
		{"utf-8 label, mostly utf-8", "utf-8", []byte("Grüße \xfc"), "Grüße \uFFFD"},
		{"gb2312 label, utf-8 bytes", "gb2312", []byte("其实是UTF-8编码的正文。"), "其实是UTF-8编码的正文。"},
		{"gb2312 label, gb bytes", "gb2312", []byte("\xc4\xe3\xba\xc3"), "你好"},
	}
	for _, tt := range tests {
		got, _ := charsetToUTF8(tt.label, tt.in)
		if got != tt.want {
			t.Errorf("%s: charsetToUTF8(%q, %q) = %q, want %q", tt.name, tt.label, tt.in, got, tt.want)
		}
	}
}
