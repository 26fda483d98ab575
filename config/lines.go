package config

import (
	"fmt"
	"strings"
)

// indexLines maps dotted key paths to the line that defines them, so a
// problem found after decoding can name its line. Array-of-tables entries
// are numbered from 0 ("staff.1.email"); inline tables map to the line of
// their key. It is a small line scanner, not a TOML parser: it understands
// table headers, array-of-tables headers and "key =" lines, which is all
// the config format uses.
func indexLines(src string) map[string]int {
	lines := map[string]int{}
	counts := map[string]int{}
	prefix := ""
	for i, raw := range strings.Split(src, "\n") {
		n := i + 1
		l := strings.TrimSpace(raw)
		if l == "" || l[0] == '#' {
			continue
		}
		switch {
		case strings.HasPrefix(l, "[["):
			name := resolve(counts, cleanKey(strings.SplitN(l[2:], "]]", 2)[0]))
			idx := counts[name]
			counts[name]++
			prefix = fmt.Sprintf("%s.%d", name, idx)
			setLine(lines, prefix, n)
		case l[0] == '[':
			prefix = resolve(counts, cleanKey(strings.SplitN(l[1:], "]", 2)[0]))
			setLine(lines, prefix, n)
		default:
			k, _, ok := strings.Cut(l, "=")
			if !ok {
				continue
			}
			key := cleanKey(k)
			if prefix != "" {
				key = prefix + "." + key
			}
			setLine(lines, key, n)
		}
	}
	return lines
}

// resolve puts the current entry index after every part of a table path
// that is an array of tables: with two [[customers]] seen,
// "customers.contacts" is "customers.1.contacts".
func resolve(counts map[string]int, path string) string {
	parts := strings.Split(path, ".")
	out := ""
	for i, p := range parts {
		if out != "" {
			out += "."
		}
		out += p
		if i < len(parts)-1 {
			if c, ok := counts[out]; ok && c > 0 {
				out = fmt.Sprintf("%s.%d", out, c-1)
			}
		}
	}
	return out
}

func setLine(m map[string]int, k string, n int) {
	if _, ok := m[k]; !ok {
		m[k] = n
	}
}

// cleanKey turns `severities."1"` or ` plans.5x8 ` into `severities.1`.
func cleanKey(k string) string {
	parts := strings.Split(strings.TrimSpace(k), ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return strings.Join(parts, ".")
}
