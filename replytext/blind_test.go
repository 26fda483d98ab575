package replytext

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The blind corpus, testdata/blind, holds replies written without looking
// at the stripper: NAME.txt (Strip) or NAME.html (StripHTML), each with
// NAME.want.txt. It measures how the code does on mail it was not written
// against.
const blindDir = "testdata/blind"

// blindInexact lists the blind fixtures known to come out inexact, with
// the reason. They must still leak no history, and fail once exact.
var blindInexact = map[string]string{}

func TestBlindFixtures(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join(blindDir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(paths)
	n, exact, noLeak := 0, 0, 0
	for _, p := range paths {
		ext := filepath.Ext(p)
		if strings.HasSuffix(p, ".want.txt") || (ext != ".txt" && ext != ".html") {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(p), ext)
		in, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		want, err := os.ReadFile(filepath.Join(blindDir, name+".want.txt"))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var got string
		if ext == ".html" {
			got = StripHTML(string(in))
		} else {
			got = Strip(string(in))
		}
		ex, leak, _ := compare(got, string(want))
		n++
		if ex {
			exact++
		}
		if !leak {
			noLeak++
		}
		reason, known := blindInexact[name]
		switch {
		case leak:
			t.Errorf("%s: history leaked\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
		case !ex && !known:
			t.Errorf("%s: not exact\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
		case ex && known:
			t.Errorf("%s: now exact: remove it from blindInexact (%s)", name, reason)
		}
	}
	if n < 60 {
		t.Fatalf("blind corpus has %d fixtures, want at least 60", n)
	}
	t.Logf("blind: %d fixtures, %d exact (%.1f%%), %d without leaked history (%.1f%%)",
		n, exact, 100*float64(exact)/float64(n), noLeak, 100*float64(noLeak)/float64(n))
}
