package mailin

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// A large mail the skeleton cannot read (no large attachment: one huge
// text body) is parsed whole up to MaxWhole; above it, it is an error
// wrapping ErrTooLarge (quarantined by the desk), not read into memory,
// and not a source error (which would be retried forever).
func TestParseMetaFromTooLarge(t *testing.T) {
	defer func(v int64) { MaxWhole = v }(MaxWhole)
	MaxWhole = 1 << 20
	mail := func(n int) []byte {
		return []byte("From: alice@acme.test\r\nSubject: a long log\r\nMessage-ID: <big@acme.test>\r\n" +
			"Content-Type: text/plain; charset=utf-8\r\n\r\n" + strings.Repeat("the log goes on\r\n", n))
	}
	under := mail(50_000) // 850 KB
	m, err := ParseMetaFrom(bytes.NewReader(under), int64(len(under)), ParseOptions{})
	if err != nil || !strings.Contains(m.Text, "the log goes on") {
		t.Fatalf("under MaxWhole: %v", err)
	}
	over := mail(100_000) // 1.7 MB
	_, err = ParseMetaFrom(bytes.NewReader(over), int64(len(over)), ParseOptions{})
	if !errors.Is(err, ErrTooLarge) || errors.Is(err, ErrSource) {
		t.Fatalf("over MaxWhole: %v, want ErrTooLarge", err)
	}
}
