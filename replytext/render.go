package replytext

import (
	"strconv"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// render converts a parsed document to text (see HTMLToText).
func render(doc *html.Node) string {
	var w textWriter
	w.walk(doc)
	return joinRendered(w.finish())
}

// joinRendered joins rendered lines, keeping at most one blank line in a row
// and none at either end.
func joinRendered(lines []string) string {
	out := make([]string, 0, len(lines))
	for _, l := range lines {
		if l == "" && (len(out) == 0 || out[len(out)-1] == "") {
			continue
		}
		out = append(out, l)
	}
	for len(out) > 0 && out[len(out)-1] == "" {
		out = out[:len(out)-1]
	}
	return strings.Join(out, "\n")
}

// outLine is one rendered line and the blockquote depth it sits at.
type outLine struct {
	depth int
	text  string
}

// Pending breaks between blocks, applied when the next content arrives, so
// that empty blocks and trailing block ends add no lines.
const (
	breakNone  = 0
	breakLine  = 1 // the next content starts a new line
	breakBlank = 2 // the next content starts a new paragraph
)

type textWriter struct {
	lines []outLine

	cur      strings.Builder // the line being written
	curHas   bool            // cur holds content (a no-break space counts)
	curDepth int
	curPre   bool
	curMark  string // list marker of the line being written

	want  int    // pending break
	depth int    // blockquote depth
	pre   int    // inside <pre>
	mark  string // list marker for the next line that gets content
	lists []listState

	limit int // when > 0, stop walking once this many lines are written
}

type listState struct {
	ordered bool
	n       int
}

func (w *textWriter) breakAt(n int) {
	if n > w.want {
		w.want = n
	}
}

// flush applies the pending break before new content.
func (w *textWriter) flush() {
	if w.want == breakNone {
		return
	}
	if w.curHas {
		w.endLine()
	}
	if w.want == breakBlank && len(w.lines) > 0 && w.lines[len(w.lines)-1].text != "" {
		d := w.depth
		if last := w.lines[len(w.lines)-1].depth; last < d {
			d = last
		}
		w.lines = append(w.lines, outLine{depth: d})
	}
	w.want = breakNone
}

// startLine records where the line being written sits.
func (w *textWriter) startLine() {
	if w.curHas {
		return
	}
	w.curHas = true
	w.curDepth = w.depth
	w.curPre = w.pre > 0
	w.curMark = w.mark
	w.mark = ""
}

// endLine finishes the current line, even an empty one.
func (w *textWriter) endLine() {
	if !w.curHas {
		w.curDepth = w.depth
	}
	text := w.cur.String()
	if w.curPre {
		text = strings.TrimRight(strings.ReplaceAll(text, "\u00a0", " "), " \t")
	} else {
		text = strings.Join(strings.FieldsFunc(text, func(r rune) bool {
			return r == ' ' || r == '\u00a0' || r == '\t'
		}), " ")
	}
	if text == "--" {
		text = "-- " // the signature separator, RFC 3676 4.3
	}
	if text != "" && w.curMark != "" {
		text = w.curMark + text
	}
	w.lines = append(w.lines, outLine{depth: w.curDepth, text: text})
	w.cur.Reset()
	w.curHas = false
	w.curMark = ""
}

// text writes character data.
func (w *textWriter) text(s string) {
	if w.pre > 0 {
		w.preText(s)
		return
	}
	s = collapseSpace(s)
	if s == "" {
		return
	}
	if s == " " {
		// Collapsible white space only: it separates words on the same
		// line, and never starts a line or forces a pending break.
		if w.curHas && w.want == breakNone && !strings.HasSuffix(w.cur.String(), " ") {
			w.cur.WriteByte(' ')
		}
		return
	}
	w.flush()
	if !w.curHas {
		s = strings.TrimLeft(s, " ")
	} else if strings.HasPrefix(s, " ") && strings.HasSuffix(w.cur.String(), " ") {
		s = s[1:]
	}
	w.startLine()
	w.cur.WriteString(s)
}

func (w *textWriter) preText(s string) {
	s = strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
	if s == "" {
		return
	}
	w.flush()
	parts := strings.Split(s, "\n")
	for i, p := range parts {
		if i > 0 {
			w.startLine()
			w.endLine()
		}
		if p != "" {
			w.startLine()
			w.cur.WriteString(p)
		}
	}
}

// lineBreak handles <br>: it ends the line, so a <br> on an empty line makes
// an empty line.
func (w *textWriter) lineBreak() {
	w.flush()
	w.startLine()
	w.endLine()
}

// finish ends the last line and returns the lines with their quote marks.
func (w *textWriter) finish() []string {
	if w.curHas {
		w.endLine()
	}
	out := make([]string, 0, len(w.lines))
	for _, l := range w.lines {
		switch {
		case l.depth == 0:
			out = append(out, l.text)
		case l.text == "":
			out = append(out, strings.Repeat(">", l.depth))
		default:
			out = append(out, strings.Repeat(">", l.depth)+" "+l.text)
		}
	}
	return out
}

func collapseSpace(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		switch r {
		case ' ', '\t', '\n', '\r', '\f':
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	if space {
		b.WriteByte(' ')
	}
	return b.String()
}

// skipped holds the elements whose content is not text a reader sees.
func skipped(n *html.Node) bool {
	switch n.DataAtom {
	case atom.Head, atom.Script, atom.Style, atom.Title, atom.Template, atom.Noscript,
		atom.Object, atom.Embed, atom.Iframe, atom.Svg, atom.Math, atom.Canvas, atom.Audio,
		atom.Video, atom.Select, atom.Input, atom.Textarea, atom.Img, atom.Map, atom.Button,
		atom.Meta, atom.Link, atom.Base:
		return true
	}
	if n.DataAtom == 0 && strings.EqualFold(n.Data, "xml") { // Office's <xml> islands
		return true
	}
	for _, a := range n.Attr {
		if a.Key == "hidden" {
			return true
		}
	}
	st := cssProps(attr(n, "style"))
	if st["display"] == "none" || st["visibility"] == "hidden" || st["mso-hide"] == "all" ||
		st["mso-list"] == "ignore" {
		return true
	}
	return false
}

func (w *textWriter) walk(n *html.Node) {
	if w.limit > 0 && len(w.lines) >= w.limit {
		return
	}
	switch n.Type {
	case html.DocumentNode:
		w.children(n)
		return
	case html.TextNode:
		w.text(n.Data)
		return
	case html.ElementNode:
	default:
		return
	}
	if skipped(n) {
		return
	}
	switch n.DataAtom {
	case atom.Br:
		w.lineBreak()
	case atom.Hr:
		w.breakAt(breakBlank)
	case atom.P:
		brk := breakBlank
		if tightParagraph(n) {
			brk = breakLine
		}
		w.breakAt(brk)
		if st := cssProps(attr(n, "style")); strings.HasPrefix(st["mso-list"], "l") {
			w.mark = "- " // Outlook list paragraph
		}
		w.children(n)
		w.breakAt(brk)
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		w.breakAt(breakBlank)
		w.children(n)
		w.breakAt(breakBlank)
	case atom.Pre:
		w.breakAt(breakBlank)
		w.pre++
		w.children(n)
		w.pre--
		w.breakAt(breakBlank)
	case atom.Blockquote:
		w.breakAt(breakBlank)
		quote := isQuoteBlock(n)
		if quote {
			w.flush()
			if w.curHas {
				w.endLine()
			}
			w.depth++
		}
		w.children(n)
		if quote {
			if w.curHas {
				w.endLine()
			}
			w.depth--
		}
		w.breakAt(breakBlank)
	case atom.Ul, atom.Ol:
		brk := breakLine
		if len(w.lists) == 0 {
			brk = breakBlank
		}
		w.breakAt(brk)
		w.lists = append(w.lists, listState{ordered: n.DataAtom == atom.Ol, n: olStart(n)})
		w.children(n)
		w.lists = w.lists[:len(w.lists)-1]
		w.breakAt(brk)
	case atom.Li:
		w.breakAt(breakLine)
		if w.curHas {
			w.endLine()
		}
		w.mark = w.listMarker()
		w.children(n)
		w.mark = ""
		w.breakAt(breakLine)
	case atom.Td, atom.Th:
		w.text(" ")
		w.children(n)
		w.text(" ")
	case atom.A:
		w.link(n)
	default:
		if isBlockAtom(n.DataAtom) {
			w.breakAt(breakLine)
			w.children(n)
			w.breakAt(breakLine)
			return
		}
		w.children(n)
	}
}

func (w *textWriter) children(n *html.Node) {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		w.walk(c)
	}
}

func (w *textWriter) listMarker() string {
	if len(w.lists) == 0 {
		return "- "
	}
	l := &w.lists[len(w.lists)-1]
	indent := strings.Repeat("  ", len(w.lists)-1)
	if !l.ordered {
		return indent + "- "
	}
	m := indent + strconv.Itoa(l.n) + ". "
	l.n++
	return m
}

func olStart(n *html.Node) int {
	if v, err := strconv.Atoi(strings.TrimSpace(attr(n, "start"))); err == nil && v >= 0 && v < 1e6 {
		return v
	}
	return 1
}

// tightParagraph reports whether a <p> has no vertical margins, so that it
// reads as one line rather than a paragraph: Outlook's MsoNormal paragraphs
// and those styled "margin: 0".
func tightParagraph(n *html.Node) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if strings.HasPrefix(strings.ToLower(c), "mso") {
			return true
		}
	}
	st := cssProps(attr(n, "style"))
	if m, ok := st["margin"]; ok {
		f := strings.Fields(m)
		switch len(f) {
		case 1, 2:
			return isZeroLength(f[0])
		case 3, 4:
			return isZeroLength(f[0]) && isZeroLength(f[2])
		}
	}
	return isZeroLength(st["margin-top"]) && isZeroLength(st["margin-bottom"])
}

func isZeroLength(v string) bool {
	v = strings.TrimSpace(strings.TrimSuffix(v, "!important"))
	if v == "" {
		return false
	}
	v = strings.TrimRight(v, "abcdefghijklmnopqrstuvwxyz%")
	f, err := strconv.ParseFloat(v, 64)
	return err == nil && f == 0
}

// link writes an anchor as "text (url)", or just the text when it already
// is the address.
func (w *textWriter) link(n *html.Node) {
	w.children(n)
	href := strings.TrimSpace(attr(n, "href"))
	lower := strings.ToLower(href)
	if href == "" || strings.HasPrefix(lower, "#") || strings.HasPrefix(lower, "javascript:") ||
		strings.HasPrefix(lower, "cid:") {
		return
	}
	text := strings.TrimSpace(collapseSpace(textContent(n)))
	if text == "" || sameLink(text, href) {
		return
	}
	if strings.HasPrefix(lower, "mailto:") {
		href = href[len("mailto:"):]
	}
	w.text(" (" + href + ")")
}

func sameLink(text, href string) bool {
	canon := func(s string) string {
		s = strings.ToLower(strings.TrimSpace(s))
		for _, p := range []string{"mailto:", "tel:", "https://", "http://", "www."} {
			s = strings.TrimPrefix(s, p)
		}
		if i := strings.IndexByte(s, '?'); i >= 0 && strings.Contains(s[:i], "@") {
			s = s[:i] // mailto:x@y?subject=…
		}
		s = strings.TrimSuffix(s, "/")
		return strings.Trim(s, "<>")
	}
	return canon(text) == canon(href)
}

// textContent returns the visible text under n.
func textContent(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
			return
		}
		if n.Type == html.ElementNode && skipped(n) {
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

// tokenText is the fallback for documents nested deeper than the parser
// accepts: text with a line break at every block and <br>, and nothing
// from scripts and styles.
func tokenText(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var w textWriter
	skip := 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return joinRendered(w.finish())
		case html.TextToken:
			if skip == 0 {
				w.text(string(z.Text()))
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			switch a {
			case atom.Script, atom.Style, atom.Head, atom.Title:
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
			case atom.Br:
				if tt != html.EndTagToken {
					w.lineBreak()
				}
			default:
				if isBlockAtom(a) {
					w.breakAt(breakLine)
				}
			}
		}
	}
}
