package mailin

import (
	"path/filepath"
	"testing"
)

// The corpora in testdata/robots-blind and testdata/humans-blind were
// written apart from the recognition code, as a check that it holds on
// mail it was not tuned to: every robot must be recognised (any reason),
// no human may be. expect.tsv names each robot with the kind it is, for
// the figures only.

func TestRobotBlindCorpus(t *testing.T) {
	want := readExpect(t, filepath.Join("testdata", "robots-blind", "expect.tsv"))
	files := corpusFiles(t, "robots-blind")
	if len(files) < 50 {
		t.Fatalf("blind robot corpus has %d messages, want at least 50", len(files))
	}
	recognised := 0
	for _, f := range files {
		name := filepath.Base(f)
		kind, ok := want[name]
		if !ok {
			t.Errorf("%s: not listed in expect.tsv", name)
			continue
		}
		delete(want, name)
		m := parseTestFile(t, f)
		if m.Auto == "" {
			t.Errorf("%s: %s not recognised as automatic", name, kind)
			continue
		}
		recognised++
	}
	for name := range want {
		t.Errorf("expect.tsv names %s, which is not in the corpus", name)
	}
	t.Logf("blind robots: %d/%d recognised (%.1f%%)", recognised, len(files),
		100*float64(recognised)/float64(len(files)))
}

func TestHumanBlindCorpus(t *testing.T) {
	checkHumanCorpus(t, "humans-blind", 40)
}
