package cases

import "testing"

func TestFindToken(t *testing.T) {
	th := NewThreader("Case")
	tests := []struct {
		name    string
		subject string
		want    int64
		ok      bool
	}{
		{"plain", "[Case#123] printer down", 123, true},
		{"re", "Re: [Case#123] printer down", 123, true},
		{"re upper", "RE: RE: [Case#7] x", 7, true},
		{"fwd", "Fwd: [Case#42] x", 42, true},
		{"chinese reply", "回复: [Case#9] 打印机故障", 9, true},
		{"chinese reply fullwidth colon", "回复：[Case#9] 打印机故障", 9, true},
		{"chinese answer", "答复: [Case#10] 故障", 10, true},
		{"chinese forward", "转发: [Case#11] 故障", 11, true},
		{"lower case", "re: [case#5] x", 5, true},
		{"mixed case", "[CASE#5] x", 5, true},
		{"spaces", "Re: [ Case # 77 ] x", 77, true},
		{"full width brackets and hash", "回复：【Case＃12】服务器宕机", 12, true},
		{"full width digits", "【Case＃１２】", 12, true},
		{"full width letters", "［Ｃａｓｅ＃３］", 3, true},
		{"token at end", "printer down [Case#8]", 8, true},
		{"none", "printer down", 0, false},
		{"other tag", "[Ticket#12] printer", 0, false},
		{"no number", "[Case#] printer", 0, false},
		{"no brackets", "Case#12 printer", 0, false},
		{"zero", "[Case#0]", 0, false},
		{"first of two", "Fwd: [Case#3] Re: [Case#4]", 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ok := th.FindToken(tt.subject)
			if n != tt.want || ok != tt.ok {
				t.Errorf("FindToken(%q) = %d, %v; want %d, %v", tt.subject, n, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestFindTokenCustomTag(t *testing.T) {
	th := NewThreader("HD-Ticket")
	if n, ok := th.FindToken("Re: [hd-ticket#15] x"); !ok || n != 15 {
		t.Fatalf("got %d %v", n, ok)
	}
	if _, ok := th.FindToken("[Case#15] x"); ok {
		t.Fatal("matched another tag")
	}
}

func TestSubject(t *testing.T) {
	th := NewThreader("Case")
	tests := []struct{ name, in, want string }{
		{"new", "printer down", "[Case#12] printer down"},
		{"reply", "Re: [Case#12] printer down", "[Case#12] printer down"},
		{"chinese", "回复：【Case＃12】 打印机  故障", "[Case#12] 打印机 故障"},
		{"empty", "", "[Case#12]"},
		{"nested prefixes", "RE: Fwd: AW: printer", "[Case#12] printer"},
		{"customer text kept as written", "热线：打印服务中断（１号机）", "[Case#12] 热线：打印服务中断（１号机）"},
		{"full-width token removed, text kept", "答复：［Ｃａｓｅ＃１２］ Ｅｒｒｏｒ ５０３", "[Case#12] Ｅｒｒｏｒ ５０３"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := th.Subject(12, tt.in); got != tt.want {
				t.Errorf("Subject(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCaseFromMessageID(t *testing.T) {
	id := MessageID(31, "ack", "abc", "example.com")
	if n, ok := CaseFromMessageID(id, "example.com"); !ok || n != 31 {
		t.Fatalf("CaseFromMessageID(%q) = %d %v", id, n, ok)
	}
	if _, ok := CaseFromMessageID(id, "other.test"); ok {
		t.Fatal("matched a foreign domain")
	}
	if _, ok := CaseFromMessageID("case-x.ack@example.com", "example.com"); ok {
		t.Fatal("matched a bad id")
	}
}

func TestMessageIDKind(t *testing.T) {
	for id, want := range map[string]string{
		"case-42.ack.1a2b3c4d@example.com":     "ack",
		"case-7.staff_notice.00ff@example.com": "staff_notice",
		"someone@example.com":                  "",
		"case-9@example.com":                   "",
	} {
		if got := MessageIDKind(id); got != want {
			t.Errorf("MessageIDKind(%q) = %q, want %q", id, got, want)
		}
	}
}
