package cases

import "testing"

func TestAuthenticated(t *testing.T) {
	tests := []struct {
		name string
		ar   []string
		want bool
	}{
		{"dkim pass", []string{"mx.example.com; dkim=pass header.d=example.com header.s=s1; spf=pass"}, true},
		{"dmarc pass", []string{"mx.example.com; dkim=fail; dmarc=pass (p=none) header.from=example.com"}, true},
		{"dkim pass for another domain", []string{"mx.example.com; dkim=pass header.d=evil.test"}, false},
		{"fail", []string{"mx.example.com; dkim=fail header.d=example.com; dmarc=fail header.from=example.com"}, false},
		{"none", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Authenticated("Eng1@Example.com", tt.ar); got != tt.want {
				t.Errorf("Authenticated = %v, want %v", got, tt.want)
			}
		})
	}
}
