package replytext

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzSeeds returns the inputs and expected texts of the fixture corpus
// (plain or HTML) and a few hand-made edge cases.
func fuzzSeeds(t testing.TB, html bool) []string {
	seeds := []string{
		"", "\r", "\r\n\r\n", ">", "> a\nb", "-- \nBob", "\xff\xfe", "a\xc3",
		"On 11/23/26 10:00 AM, Alice wrote:\n> q\na",
		"On 1 May, x@y.z wrote:\ntext",
		"From: a\nSent: 1\nSubject: c",
		"________________________________\nFrom: a\nDate: 1\nSubject: c",
		"------------------&nbsp;Original&nbsp;------------------",
		"在 2026/11/23 10:00, 王丽 写道:\n>旧",
		"a\nOn 2 x\nwrote:\n\nb wrote:\n> q",
		"ok. On 3 Mar 2026 10:00 a <a@b.c> wrote:\nx",
		"Sent from my iPhone\n\nold",
		"x\n2014-03-20 8:48 GMT+01:00 N <a@b.c>:\n\n> q",
		"<div>a</div><blockquote type=cite>q</blockquote>b",
		"<p>a<br><pre>x\ny</pre></p><ul><li>i</li></ul>",
		"<p>a</p><hr><p><b>From:</b> x<br><b>Sent:</b> 1<br><b>Subject:</b> s</p>",
		"<table><tr><td>To</td></tr><tr><td>Subject</td><td>1</td></tr></table>",
	}
	for _, f := range loadFixtures(t) {
		if in, isHTML := f.input(); in != "" && isHTML == html {
			seeds = append(seeds, in)
		}
		seeds = append(seeds, f.want)
	}
	return seeds
}

// FuzzStrip checks that Strip never panics, returns valid UTF-8 without
// CR, never returns more than the input's text (its invalid bytes replaced
// by U+FFFD), and is idempotent: stripping what it returned changes nothing.
func FuzzStrip(f *testing.F) {
	for _, s := range fuzzSeeds(f, false) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Strip(in)
		if !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8 in output %q", out)
		}
		if len(out) > len(strings.ToValidUTF8(in, "\uFFFD")) {
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

// FuzzStripHTML checks that StripHTML and HTMLToText never panic and return
// valid UTF-8, that StripHTML returns no more than HTMLToText, and that
// StripHTML's output is already stripped.
func FuzzStripHTML(f *testing.F) {
	for _, s := range fuzzSeeds(f, true) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		text := HTMLToText(in)
		out := StripHTML(in)
		if !utf8.ValidString(text) || !utf8.ValidString(out) {
			t.Fatalf("invalid UTF-8:\n in %q\ntext %q\nout %q", in, text, out)
		}
		if len(out) > len(text) {
			t.Fatalf("StripHTML longer than HTMLToText:\n in %q\ntext %q\nout %q", in, text, out)
		}
		if again := Strip(out); again != out {
			t.Fatalf("StripHTML output not stripped:\n in %q\nout %q\nagain %q", in, out, again)
		}
	})
}
