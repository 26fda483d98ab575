package mailin

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxAddresses bounds the addresses read from one header field.
const maxAddresses = 1000

// parseAddressList parses an address-list (RFC 5322 3.4) leniently: groups
// (3.4: "name: a, b;") are flattened, display names are RFC 2047 decoded
// even inside quotes, raw 8-bit names are read as undeclared text, old
// style "addr (Name)" is understood, and an unquoted comma inside a
// display name ("Doe, John <j@example.com>") is joined back. Items without
// an address are skipped. Addr is lowercased. hints are the charsets the
// message declares elsewhere, for raw 8-bit names.
func parseAddressList(v string, hints ...string) []Address {
	// Raw 8-bit text is read as undeclared text first, before the quotes
	// and backslashes are looked at (a Big5 or Shift_JIS trail byte may be
	// 0x5C, "\\"), except next to encoded words: then the bytes stay raw
	// until the display name is decoded (cleanDisplayName), so that those
	// inside a word are read in its charset.
	if !utf8.ValidString(v) && !strings.Contains(v, "=?") {
		v = undeclaredToUTF8([]byte(v), hints...)
	}
	var out []Address
	carry := ""
	for _, it := range splitAddressItems(v) {
		if len(out) >= maxAddresses {
			break
		}
		it = strings.TrimSpace(it)
		if it == "" {
			continue
		}
		lt, _ := findAngle(it)
		if lt < 0 && !strings.Contains(it, "@") {
			// A name cut off by an unquoted comma: keep it for the next item.
			if len(carry) < 1024 {
				carry += it + ", "
			}
			continue
		}
		a, ok := parseAddressItem(it, carry, hints)
		carry = ""
		if ok {
			out = append(out, a)
		}
	}
	return out
}

// splitAddressItems splits at ',' and ';' outside quotes, comments and
// angle brackets, dropping group display names ("team:").
func splitAddressItems(v string) []string {
	var items []string
	var cur strings.Builder
	quote, angle := false, false
	depth := 0
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case quote:
			if c == '\\' && i+1 < len(v) {
				cur.WriteByte(c)
				i++
				c = v[i]
			} else if c == '"' {
				quote = false
			}
		case depth > 0:
			if c == '\\' && i+1 < len(v) {
				cur.WriteByte(c)
				i++
				c = v[i]
			} else if c == '(' {
				depth++
			} else if c == ')' {
				depth--
			}
		case c == '"':
			quote = true
		case c == '(':
			depth++
		case c == '<':
			angle = true
		case c == '>':
			angle = false
		case !angle && (c == ',' || c == ';'):
			items = append(items, cur.String())
			cur.Reset()
			continue
		case !angle && c == ':':
			cur.Reset() // group display name
			continue
		}
		cur.WriteByte(c)
	}
	items = append(items, cur.String())
	return items
}

// findAngle returns the positions of the last top-level "<" and its ">"
// in an address item, or -1.
func findAngle(it string) (lt, gt int) {
	lt, gt = -1, -1
	quote := false
	depth := 0
	for i := 0; i < len(it); i++ {
		c := it[i]
		switch {
		case c == '\\' && (quote || depth > 0):
			i++
		case quote:
			if c == '"' {
				quote = false
			}
		case depth > 0:
			if c == '(' {
				depth++
			} else if c == ')' {
				depth--
			}
		case c == '"':
			quote = true
		case c == '(':
			depth++
		case c == '<':
			lt, gt = i, -1
		case c == '>' && lt >= 0 && gt < 0:
			gt = i
		}
	}
	if lt >= 0 && gt < 0 {
		gt = len(it) // unterminated: take the rest
	}
	return lt, gt
}

// parseAddressItem parses one mailbox; namePrefix is a display-name part
// carried over from a split at an unquoted comma.
func parseAddressItem(it, namePrefix string, hints []string) (Address, bool) {
	var name, addr string
	lt, gt := findAngle(it)
	if lt >= 0 {
		name = namePrefix + it[:lt]
		addr = it[lt+1 : gt]
		// RFC 5322 4.4 obs-route: "<@relay:user@host>".
		if strings.HasPrefix(strings.TrimSpace(addr), "@") {
			if i := strings.IndexByte(addr, ':'); i >= 0 {
				addr = addr[i+1:]
			}
		}
	} else {
		var comment string
		addr, comment = stripComments(it)
		name = namePrefix + comment
		if f := strings.Fields(addr); len(f) > 1 {
			addr = ""
			for _, w := range f {
				if strings.Contains(w, "@") {
					addr = w
					break
				}
			}
		}
	}
	addr, _ = stripComments(addr)
	addr = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, addr)
	if len(addr) > 7 && strings.EqualFold(addr[:7], "mailto:") {
		addr = addr[7:]
	}
	addr = strings.ToLower(addr)
	if addr == "" {
		return Address{}, false
	}
	return Address{Name: cleanDisplayName(name, hints), Addr: addr}, true
}

// stripComments removes RFC 5322 3.2.2 comments outside quoted strings
// and returns the rest and the first comment's text.
func stripComments(s string) (rest, first string) {
	if !strings.Contains(s, "(") {
		return s, ""
	}
	var b, c strings.Builder
	quote := false
	depth := 0
	seen := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case depth > 0:
			if ch == '\\' && i+1 < len(s) {
				i++
				ch = s[i]
			} else if ch == '(' {
				depth++
			} else if ch == ')' {
				depth--
				if depth == 0 {
					seen = true
					continue
				}
			}
			if !seen {
				c.WriteByte(ch)
			}
			continue
		case quote:
			if ch == '\\' && i+1 < len(s) {
				b.WriteByte(ch)
				i++
				ch = s[i]
			} else if ch == '"' {
				quote = false
			}
		case ch == '"':
			quote = true
		case ch == '(':
			depth++
			continue
		}
		b.WriteByte(ch)
	}
	return b.String(), c.String()
}

// cleanDisplayName unquotes a display name, decodes its encoded words and
// collapses white space.
func cleanDisplayName(s string, hints []string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && i+1 < len(s):
			i++
			b.WriteByte(s[i])
		case c == '"':
		default:
			b.WriteByte(c)
		}
	}
	name, _ := decodeHeaderText(b.String(), hints...)
	name = strings.Join(strings.FieldsFunc(name, unicode.IsSpace), " ")
	if len(name) >= 2 && name[0] == '\'' && name[len(name)-1] == '\'' {
		name = strings.TrimSpace(name[1 : len(name)-1])
	}
	return cleanHeaderLine(name)
}
