package replytext

import (
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// HTMLToText converts an HTML mail body to readable plain text without
// removing quoted history. Paragraphs and headings are separated by a blank
// line, block elements and <br> end lines, list items start with "- " (or
// "1. " in numbered lists), a link reads "text (url)" when its text is not
// already its address, and scripts, styles, images and hidden elements are
// left out. Blockquotes that quote a message (type=cite, a quote class, a
// left border) have their lines prefixed with "> ", one ">" per level, the
// way plain-text clients quote. Entities are decoded; runs of white space
// collapse as a browser collapses them, except inside <pre>. Invalid UTF-8
// becomes U+FFFD.
func HTMLToText(s string) string {
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		// Only nesting deeper than the parser allows gets here.
		return strings.ToValidUTF8(tokenText(s), "\uFFFD")
	}
	return strings.ToValidUTF8(render(doc), "\uFFFD")
}

// StripHTML returns the new text of an HTML reply as plain text: the quoted
// history is removed and the rest converted as by HTMLToText, then Strip is
// applied to the result.
//
// The history starts at the first of these outside a quoting blockquote, and
// it and everything after it in the document are removed: Outlook's
// divRplyFwdMsg (and the appendonsend and reference-message containers of
// newer Outlooks), a block with a top border whose text begins with a
// header line ("From:", "De :", "Von:", "发件人:"; Outlook's
// "border-top:solid #E1E1E1" and "#B5C4DF" dividers, Foxmail), Hotmail's
// <hr id="stopSpelling">, an <hr> followed by a From/Sent header block, QQ
// Mail's and Tencent Exmail's <includetail>, NetEase's
// isReplyContent/isForwardContent and J-reply blocks, Thunderbird's
// moz-forward-container, yahoo_quoted, protonmail_quote, Zoho's zmail_extra,
// Zimbra's zwchr rule, and a gmail_quote container without a quoting
// blockquote (a forward). Gmail and Thunderbird attribution lines
// (gmail_attr, moz-cite-prefix) are removed where they are. Quoting
// blockquotes (gmail_quote, type=cite as Apple Mail and Thunderbird write
// them, and bare ones) become "> " lines, which Strip removes, so text a
// person wrote between or below them is kept. Text markers such as
// "------------------ 原始邮件 ------------------" are left to Strip.
func StripHTML(s string) string {
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		return Strip(tokenText(s))
	}
	removeAttributions(doc)
	if n := findHistory(doc); n != nil {
		cutFrom(n)
	}
	return Strip(render(doc))
}

// removeAttributions removes the elements that only hold an attribution line.
func removeAttributions(n *html.Node) {
	for c := n.FirstChild; c != nil; {
		next := c.NextSibling
		if c.Type == html.ElementNode && (hasClass(c, "gmail_attr") || hasClass(c, "moz-cite-prefix")) {
			n.RemoveChild(c)
		} else {
			removeAttributions(c)
		}
		c = next
	}
}

// findHistory returns the first element, in document order and outside
// quoting blockquotes, that starts the quoted history, or nil.
func findHistory(n *html.Node) *html.Node {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type != html.ElementNode {
			continue
		}
		if startsHTMLHistory(c) {
			return c
		}
		if isQuoteBlock(c) {
			continue
		}
		if h := findHistory(c); h != nil {
			return h
		}
	}
	return nil
}

func startsHTMLHistory(n *html.Node) bool {
	if n.DataAtom == 0 && n.Data == "includetail" { // QQ Mail, Tencent Exmail
		return true
	}
	id := strings.ToLower(attr(n, "id"))
	id = strings.TrimPrefix(id, "x_") // Outlook prefixes ids of quoted HTML
	switch {
	case strings.HasPrefix(id, "divrplyfwdmsg"),
		id == "appendonsend",
		id == "mail-editor-reference-message-container",
		id == "olk_src_body_section",
		id == "isreplycontent", id == "isforwardcontent", // NetEase 163/126
		id == "zwchr": // Zimbra
		return true
	}
	for _, c := range []string{"yahoo_quoted", "moz-forward-container", "outlookmessageheader", "j-reply",
		"protonmail_quote", "zmail_extra", "aolreplycontainer"} {
		if hasClass(n, c) {
			return true
		}
	}
	// Gmail's quote container holding no quoting blockquote: a forward, or
	// a quote whose blockquote another client stripped.
	if hasClass(n, "gmail_quote") && n.DataAtom != atom.Blockquote && !hasQuoteBlock(n) {
		return true
	}
	if n.DataAtom == atom.Hr {
		// Hotmail and Outlook.com's reply rule, or any rule followed by
		// a header block ("From: … Sent: … Subject: …").
		if strings.EqualFold(id, "stopspelling") {
			return true
		}
		lines := linesAfter(n, 12)
		return len(lines) > 0 && headerBlock(lines, 0)
	}
	if n.DataAtom == atom.Table && isHeaderTable(n) {
		return true
	}
	// Outlook desktop and Foxmail: a block with a top border (Outlook's
	// "border-top:solid #E1E1E1 1.0pt", older Outlooks' #B5C4DF) whose text
	// starts with the header block ("From: …", "Von: …", "发件人: …").
	st := cssProps(attr(n, "style"))
	if v, ok := st["border-top"]; ok && !strings.HasPrefix(v, "none") && isBlockAtom(n.DataAtom) {
		if headerKey(firstTextLine(n)) != keyNone {
			return true
		}
	}
	return false
}

// isHeaderTable reports whether table n is the header table Lotus Notes
// puts above the quoted message: the sender and date in one cell, and
// cells that hold just the labels "To" and "Subject" (or their translations,
// with or without a colon) in different rows.
func isHeaderTable(n *html.Node) bool {
	toRow, subjectRow := -1, -1
	row := 0
	var walk func(*html.Node)
	walk = func(c *html.Node) {
		for ; c != nil; c = c.NextSibling {
			if c.Type != html.ElementNode {
				continue
			}
			switch c.DataAtom {
			case atom.Tr:
				row++
			case atom.Td, atom.Th:
				label := strings.TrimFunc(textContent(c), func(r rune) bool {
					return isSpace(r) || r == ':' || r == '：'
				})
				if len(label) <= 40 {
					switch headerKeys[strings.ToLower(label)] {
					case keyTo:
						toRow = row
					case keySubject:
						subjectRow = row
					}
				}
			}
			walk(c.FirstChild)
		}
	}
	walk(n.FirstChild)
	return toRow >= 0 && subjectRow >= 0 && toRow != subjectRow &&
		strings.ContainsAny(textContent(n), "0123456789")
}

// hasQuoteBlock reports whether a quoting blockquote is under n.
func hasQuoteBlock(n *html.Node) bool {
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if isQuoteBlock(c) || hasQuoteBlock(c) {
			return true
		}
	}
	return false
}

// linesAfter returns up to max non-blank rendered lines of what follows n
// in document order.
func linesAfter(n *html.Node, max int) []string {
	w := textWriter{limit: 2 * max}
	for cur := n; cur != nil && cur.Type != html.DocumentNode; cur = cur.Parent {
		for s := cur.NextSibling; s != nil; s = s.NextSibling {
			w.walk(s)
			if len(w.lines) >= max {
				break
			}
		}
		if len(w.lines) >= max {
			break
		}
	}
	var out []string
	for _, l := range w.finish() {
		if strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
		if len(out) == max {
			break
		}
	}
	return out
}

// firstTextLine returns the first non-blank line of n's rendered text.
func firstTextLine(n *html.Node) string {
	w := textWriter{limit: 16}
	w.walk(n)
	for _, l := range w.finish() {
		if t := strings.TrimSpace(l); t != "" {
			return t
		}
	}
	return ""
}

// cutFrom removes n and everything after it in document order.
func cutFrom(n *html.Node) {
	for cur := n; cur.Parent != nil; cur = cur.Parent {
		for s := cur.NextSibling; s != nil; {
			next := s.NextSibling
			cur.Parent.RemoveChild(s)
			s = next
		}
	}
	n.Parent.RemoveChild(n)
}

// isQuoteBlock reports whether n is a blockquote that quotes a message, as
// opposed to one a person used to indent their own text. Gmail and Apple
// Mail indent with a blockquote styled "margin: 0 0 0 40px; border: none";
// every other blockquote, with or without a class or type=cite, is taken as
// a quote.
func isQuoteBlock(n *html.Node) bool {
	if n.Type != html.ElementNode || n.DataAtom != atom.Blockquote {
		return false
	}
	if strings.EqualFold(attr(n, "type"), "cite") {
		return true
	}
	if strings.Contains(strings.ToLower(attr(n, "class")), "quote") {
		return true
	}
	id := strings.ToLower(attr(n, "id"))
	if strings.Contains(id, "reply") || strings.Contains(id, "quote") {
		return true
	}
	st := cssProps(attr(n, "style"))
	for _, p := range []string{"border-left", "border-left-style", "border-left-width"} {
		if v, ok := st[p]; ok && v != "" && !strings.HasPrefix(v, "none") && !strings.HasPrefix(v, "0") {
			return true
		}
	}
	if b, ok := st["border"]; ok && (strings.HasPrefix(b, "none") || strings.HasPrefix(b, "0")) {
		return false // an indent
	}
	return true
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Namespace == "" && strings.EqualFold(a.Key, key) {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, class string) bool {
	for _, c := range strings.Fields(attr(n, "class")) {
		if strings.EqualFold(c, class) {
			return true
		}
	}
	return false
}

// cssProps parses an inline style attribute into lowercased property names
// and values.
func cssProps(style string) map[string]string {
	if style == "" {
		return nil
	}
	m := make(map[string]string)
	for _, decl := range strings.Split(style, ";") {
		k, v, ok := strings.Cut(decl, ":")
		if !ok {
			continue
		}
		m[strings.ToLower(strings.TrimSpace(k))] = strings.ToLower(strings.TrimSpace(v))
	}
	return m
}

func isBlockAtom(a atom.Atom) bool {
	switch a {
	case atom.Address, atom.Article, atom.Aside, atom.Blockquote, atom.Center, atom.Dd,
		atom.Details, atom.Dialog, atom.Dir, atom.Div, atom.Dl, atom.Dt, atom.Fieldset,
		atom.Figcaption, atom.Figure, atom.Footer, atom.Form, atom.H1, atom.H2, atom.H3,
		atom.H4, atom.H5, atom.H6, atom.Header, atom.Hgroup, atom.Hr, atom.Li, atom.Main,
		atom.Menu, atom.Nav, atom.Ol, atom.P, atom.Pre, atom.Section, atom.Summary,
		atom.Table, atom.Caption, atom.Tr, atom.Ul, atom.Body, atom.Html:
		return true
	}
	return false
}
