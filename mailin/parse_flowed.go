package mailin

import "strings"

// unflow reads a text/plain body sent with format=flowed (RFC 3676): a line
// ending in a space is soft-broken and goes on in the next line of the
// same quote depth (4.1, 4.2); with DelSp=yes that space is removed too
// (4.2). A leading space added by space-stuffing is dropped (4.4). The
// signature separator "-- " stays a line of its own (4.3), and quoted lines
// keep their ">" marks (4.5). s has LF line ends.
func unflow(s string, delsp bool) string {
	var out strings.Builder
	var para strings.Builder
	open, openDepth := false, 0
	flush := func() {
		if !open {
			return
		}
		if openDepth > 0 {
			out.WriteString(strings.Repeat(">", openDepth))
			if para.Len() > 0 {
				out.WriteByte(' ')
			}
		}
		out.WriteString(para.String())
		out.WriteByte('\n')
		para.Reset()
		open = false
	}
	lines := strings.Split(s, "\n")
	trailingNL := strings.HasSuffix(s, "\n")
	if trailingNL {
		lines = lines[:len(lines)-1]
	}
	for _, line := range lines {
		depth := 0
		for depth < len(line) && line[depth] == '>' {
			depth++
		}
		text := strings.TrimPrefix(line[depth:], " ")
		if open && depth != openDepth {
			flush() // a change of quote depth ends the paragraph (4.5)
		}
		if text == "-- " {
			flush() // the signature separator starts a line of its own
		}
		flowed := text != "-- " && strings.HasSuffix(text, " ")
		if flowed && delsp {
			text = text[:len(text)-1]
		}
		para.WriteString(text)
		open, openDepth = true, depth
		if !flowed {
			flush()
		}
	}
	flush()
	r := out.String()
	if !trailingNL {
		r = strings.TrimSuffix(r, "\n")
	}
	return r
}
