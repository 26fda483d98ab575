package replytext

import (
	"strings"
	"testing"
	"time"
)

func TestZZPerf(t *testing.T) {
	for _, n := range []int{25000, 100000} {
		for name, in := range map[string]string{
			"colons":      strings.Repeat("a:b:c:d:e:f wrote:\n", n),
			"underscores": strings.Repeat("____________\n\n", n),
			"html quotes": strings.Repeat(`<blockquote type=cite>q</blockquote>t`, n),
			"html links":  strings.Repeat(`<a href="http://x">y</a>`, n),
		} {
			start := time.Now()
			if strings.HasPrefix(name, "html") {
				StripHTML(in)
			} else {
				Strip(in)
			}
			t.Logf("%-14s %6d %v", name, n, time.Since(start))
		}
	}
}
