package replytext

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The fixture corpus holds reply bodies as the clients write them, already
// decoded: testdata/plain/CLASS-NAME.txt (Strip) and
// testdata/html/CLASS-NAME.html (StripHTML), each with CLASS-NAME.want.txt,
// the exact text to relay. CLASS names what the fixture exercises (attr,
// header, separator, mobile, inline, interleaved, nearmiss, html...). The
// .eml samples of testdata/corpus count as class "eml".

// knownInexact lists the fixtures whose output is known to differ from
// the expected text, with the reason. Such a fixture must still leak no
// history; it fails once it comes out exact, so that the list stays true.
var knownInexact = map[string]string{}

type fixture struct {
	name  string // CLASS-NAME, or eml-NAME
	class string
	kind  string // plain, html, eml
	in    string // the body (plain, html), or the .eml path
	want  string
}

func loadFixtures(t testing.TB) []fixture {
	t.Helper()
	var out []fixture
	for kind, ext := range map[string]string{"plain": ".txt", "html": ".html"} {
		paths, err := filepath.Glob(filepath.Join("testdata", kind, "*"+ext))
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			if strings.HasSuffix(p, ".want.txt") {
				continue
			}
			name := strings.TrimSuffix(filepath.Base(p), ext)
			in, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			want, err := os.ReadFile(filepath.Join("testdata", kind, name+".want.txt"))
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			class, _, ok := strings.Cut(name, "-")
			if !ok {
				t.Fatalf("%s: fixture name has no CLASS- prefix", p)
			}
			out = append(out, fixture{name: kind + "/" + name, class: class, kind: kind,
				in: string(in), want: string(want)})
		}
	}
	for _, s := range loadCorpus(t) {
		out = append(out, fixture{name: "eml/" + s.name, class: "eml", kind: "eml", in: s.eml, want: s.want})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// run strips the fixture as its kind says.
func (f fixture) run() (string, error) {
	switch f.kind {
	case "plain":
		return Strip(f.in), nil
	case "html":
		return StripHTML(f.in), nil
	}
	got, _, _, err := stripSample(f.in)
	return got, err
}

// input returns the fixture's body (for an .eml, its decoded text part).
func (f fixture) input() (string, bool) {
	switch f.kind {
	case "plain":
		return f.in, false
	case "html":
		return f.in, true
	}
	_, body, isHTML, err := stripSample(f.in)
	if err != nil {
		return "", false
	}
	return body, isHTML
}

func lineSet(s string) map[string]bool {
	m := make(map[string]bool)
	for _, l := range strings.Split(s, "\n") {
		if t := strings.TrimSpace(l); t != "" {
			m[t] = true
		}
	}
	return m
}

// compare reports whether got equals want (outer white space aside),
// whether got leaks history (a non-blank line that the expected text does
// not have), and whether it lost some of the person's text.
func compare(got, want string) (exact, leak, lost bool) {
	exact = strings.TrimSpace(got) == strings.TrimSpace(want)
	g, w := lineSet(got), lineSet(want)
	for l := range g {
		if !w[l] {
			leak = true
		}
	}
	for l := range w {
		if !g[l] {
			lost = true
		}
	}
	return exact, leak, lost
}

func TestFixtures(t *testing.T) {
	for _, f := range loadFixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			got, err := f.run()
			if err != nil {
				t.Fatal(err)
			}
			exact, leak, _ := compare(got, f.want)
			base := strings.TrimPrefix(strings.TrimPrefix(f.name, "plain/"), "html/")
			reason, known := knownInexact[base]
			switch {
			case leak:
				t.Errorf("history leaked\n--- got ---\n%s\n--- want ---\n%s", got, f.want)
			case !exact && !known:
				t.Errorf("not exact\n--- got ---\n%s\n--- want ---\n%s", got, f.want)
			case exact && known:
				t.Errorf("now exact: remove it from knownInexact (%s)", reason)
			}
		})
	}
}

// TestFixtureFigures reports, per class, how many fixtures come out exact
// and how many leak no history, and fails below 85% exact or on any leak.
func TestFixtureFigures(t *testing.T) {
	type tally struct{ n, exact, noLeak int }
	classes := map[string]*tally{}
	all := &tally{}
	for _, f := range loadFixtures(t) {
		got, err := f.run()
		if err != nil {
			t.Errorf("%s: %v", f.name, err)
			continue
		}
		exact, leak, _ := compare(got, f.want)
		for _, c := range []*tally{all, classes[f.class]} {
			if c == nil {
				c = &tally{}
				classes[f.class] = c
			}
			c.n++
			if exact {
				c.exact++
			}
			if !leak {
				c.noLeak++
			}
		}
	}
	names := make([]string, 0, len(classes))
	for c := range classes {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		x := classes[c]
		t.Logf("%-12s %4d fixtures, %4d exact, %4d without leaked history", c, x.n, x.exact, x.noLeak)
	}
	pct := func(a, b int) float64 { return 100 * float64(a) / float64(b) }
	t.Logf("%-12s %4d fixtures, %5.1f%% exact, %5.1f%% without leaked history",
		"all", all.n, pct(all.exact, all.n), pct(all.noLeak, all.n))
	if all.n < 150 {
		t.Errorf("corpus has %d fixtures; keep at least 150", all.n)
	}
	if pct(all.exact, all.n) < 85 {
		t.Errorf("%.1f%% exact, want at least 85%%", pct(all.exact, all.n))
	}
	if all.noLeak != all.n {
		t.Errorf("%d fixtures leak history", all.n-all.noLeak)
	}
}

// BenchmarkFixtures strips every plain and HTML fixture once per iteration.
func BenchmarkFixtures(b *testing.B) {
	var fs []fixture
	for _, f := range loadFixtures(b) {
		if f.kind != "eml" {
			fs = append(fs, f)
		}
	}
	b.ResetTimer()
	for range b.N {
		for _, f := range fs {
			if _, err := f.run(); err != nil {
				b.Fatal(err)
			}
		}
	}
}
