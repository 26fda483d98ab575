package mailin

import (
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/transform"
)

func TestUTF7Decode(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"rfc2152 mom", "Hi Mom -+Jjo--!", "Hi Mom -☺-!"},
		{"rfc2152 japanese", "+ZeVnLIqe-", "日本語"},
		{"rfc2152 A not-identical", "A+ImIDkQ.", "A≢Α."},
		{"plus", "1 +- 1 = 2", "1 + 1 = 2"},
		{"implicit end", "+AGEAYgBj", "abc"},
		{"surrogate pair", "+2D3eAA-", "😀"},
		{"lone high surrogate", "+2D0-x", "\uFFFDx"},
		{"lone low surrogate", "+3gA-x", "\uFFFDx"},
		{"8-bit byte", "a\xffb", "a\uFFFDb"},
		{"plus at end", "a+", "a"},
		{"chinese", "+T2BZfQ-", "你好"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, _, err := transform.String(utf7Encoding{}.NewDecoder(), tt.in)
			if err != nil {
				t.Fatal(err)
			}
			parseWantEq(t, "decoded", got, tt.want)
		})
	}
}

func TestUTF7RoundTrip(t *testing.T) {
	for _, s := range []string{
		"", "plain ascii, (with) punctuation: ok?", "a+b", "你好，世界", "mixed 中文 and English!",
		"emoji 😀 end", "~\\[]{}", strings.Repeat("长", 3000),
	} {
		t.Run(s[:min(len(s), 20)], func(t *testing.T) {
			enc, _, err := transform.String(utf7Encoding{}.NewEncoder(), s)
			if err != nil {
				t.Fatal(err)
			}
			for i := 0; i < len(enc); i++ {
				if enc[i] >= 0x80 {
					t.Fatalf("encoded %q has 8-bit byte", enc)
				}
			}
			dec, _, err := transform.String(utf7Encoding{}.NewDecoder(), enc)
			if err != nil {
				t.Fatal(err)
			}
			parseWantEq(t, "round trip", dec, s)
		})
	}
}

// TestUTF7Charset checks the registration with go-message/charset.
func TestUTF7Charset(t *testing.T) {
	s, p := charsetToUTF8("UTF-7", []byte("+ZeVnLIqe-"))
	parseWantEq(t, "decoded", s, "日本語")
	parseWantEq(t, "problem", p, "")
}

func FuzzUTF7(f *testing.F) {
	for _, s := range []string{"Hi Mom -+Jjo--!", "+ZeVnLIqe-", "+2D3eAA-", "a+", "+-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		dec, _, err := transform.String(utf7Encoding{}.NewDecoder(), s)
		if err != nil || !utf8.ValidString(dec) {
			t.Fatalf("decode %q = %q, %v", s, dec, err)
		}
		if !utf8.ValidString(s) {
			return
		}
		enc, _, err := transform.String(utf7Encoding{}.NewEncoder(), s)
		if err != nil {
			t.Fatal(err)
		}
		back, _, _ := transform.String(utf7Encoding{}.NewDecoder(), enc)
		if back != s {
			t.Fatalf("round trip %q -> %q -> %q", s, enc, back)
		}
	})
}
