package replytext

import (
	"strings"
	"testing"
)

// fuzzSeeds returns the corpus bodies, their expected texts and a few
// hand-made edge cases.
func fuzzSeeds(t testing.TB, html bool) []string {
	seeds := []string{
		"", "\r", "\r\n\r\n", ">", "> a\nb", "-- \nBob",
		"On 11/23/26 10:00 AM, Alice wrote:\n> q\na",
		"On 1 May, x@y.z wrote:\ntext",
		"From: a\nSent: b\nSubject: c",
		"________________________________\nFrom: a\nDate: b\nSubject: c",
		"------------------&nbsp;Original&nbsp;------------------",
		"在 2026/11/23 10:00, 王丽 写道:\n>旧",
		"a\nOn 2 x\nwrote:\n\nb wrote:\n> q",
		"<div>a</div><blockquote type=cite>q</blockquote>b",
		"<p>a<br><pre>x\ny</pre></p><ul><li>i</li></ul>",
	}
	for _, s := range loadCorpus(t) {
		_, body, isHTML, err := stripSample(s.eml)
		if err == nil && isHTML == html {
			seeds = append(seeds, body)
		}
		seeds = append(seeds, s.want)
	}
	return seeds
}

// FuzzStrip checks that Strip never panics, never lengthens its input, and
// is idempotent: stripping what it returned changes nothing.
func FuzzStrip(f *testing.F) {
	for _, s := range fuzzSeeds(f, false) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Strip(in)
		if len(out) > len(in) {
			t.Fatalf("output longer than input:\n in %q\nout %q", in, out)
		}
		if again := Strip(out); again != out {
			t.Fatalf("not idempotent:\n in %q\nout %q\nagain %q", in, out, again)
		}
		if strings.Contains(out, "\r") {
			t.Fatalf("CR left in output %q", out)
		}
	})
}

// FuzzHTML checks that StripHTML and HTMLToText never panic and that
// StripHTML's output is already stripped.
func FuzzHTML(f *testing.F) {
	for _, s := range fuzzSeeds(f, true) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		_ = HTMLToText(in)
		out := StripHTML(in)
		if again := Strip(out); again != out {
			t.Fatalf("StripHTML output not stripped:\n in %q\nout %q\nagain %q", in, out, again)
		}
	})
}
