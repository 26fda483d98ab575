package replytext

import (
	"strings"
	"testing"
)

func BenchmarkStripChain(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("Top\n")
	for range 20000 {
		sb.WriteString("On 11/23/26 10:00 AM, Alice wrote:\n\n")
	}
	sb.WriteString("> q\n")
	s := sb.String()
	for b.Loop() {
		Strip(s)
	}
}
