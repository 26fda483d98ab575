package mailin

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The corpora in testdata/robots and testdata/humans are mail written the
// way MTAs, mail services, list managers and autoresponders (robots) and
// people's mail clients (humans) write it. Every robot must be recognised
// with the reason testdata/robots/expect.tsv names; no human may be.

// readExpect reads "file<TAB>value" lines; '#' starts a comment line.
func readExpect(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, v, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("%s: bad line %q", path, line)
		}
		want[name] = v
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return want
}

// corpusFiles lists the .eml files of a testdata directory, sorted, as
// names relative to testdata (for parseTestFile).
func corpusFiles(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range files {
		files[i], _ = filepath.Rel("testdata", f)
	}
	sort.Strings(files)
	return files
}

func TestRobotCorpus(t *testing.T) {
	want := readExpect(t, filepath.Join("testdata", "robots", "expect.tsv"))
	files := corpusFiles(t, "robots")
	if len(files) < 150 {
		t.Fatalf("robot corpus has %d messages, want at least 150", len(files))
	}
	recognised, exact := 0, 0
	for _, f := range files {
		name := filepath.Base(f)
		w, ok := want[name]
		if !ok {
			t.Errorf("%s: no expected reason in expect.tsv", name)
			continue
		}
		delete(want, name)
		m := parseTestFile(t, f)
		switch {
		case m.Auto == "":
			t.Errorf("%s: not recognised as automatic (want %q)", name, w)
		case m.Auto != w:
			recognised++
			t.Errorf("%s: Auto = %q, want %q", name, m.Auto, w)
		default:
			recognised++
			exact++
		}
	}
	for name := range want {
		t.Errorf("expect.tsv names %s, which is not in the corpus", name)
	}
	t.Logf("robots: %d/%d recognised (%.1f%%), %d with the expected reason", recognised, len(files),
		100*float64(recognised)/float64(len(files)), exact)
}

func TestHumanCorpus(t *testing.T) {
	checkHumanCorpus(t, "humans", 80)
}

// checkHumanCorpus requires every mail of testdata/dir (at least min of
// them) to be left unmarked, with a From address read.
func checkHumanCorpus(t *testing.T, dir string, min int) {
	files := corpusFiles(t, dir)
	if len(files) < min {
		t.Fatalf("%s corpus has %d messages, want at least %d", dir, len(files), min)
	}
	marked := 0
	for _, f := range files {
		m := parseTestFile(t, f)
		if m.Auto != "" {
			marked++
			t.Errorf("%s: a person's mail taken as automatic: %q", filepath.Base(f), m.Auto)
		}
		if m.From.Addr == "" {
			t.Errorf("%s: no From address read", filepath.Base(f))
		}
	}
	t.Logf("%s: %d/%d left unmarked (%.1f%%)", dir, len(files)-marked, len(files),
		100*float64(len(files)-marked)/float64(len(files)))
}
