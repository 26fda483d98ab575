package dsn

import (
	"regexp"
	"strconv"
	"strings"
)

// dsField is one field of a delivery-status body.
type dsField struct{ name, value string }

// dsFields splits a message/delivery-status body (RFC 3464 2.1) into groups
// of fields separated by blank lines, with folded lines unfolded
// (RFC 5322 2.2.3). Lines that are not fields are skipped.
func dsFields(s string) [][]dsField {
	var groups [][]dsField
	var cur []dsField
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) == "" {
			if len(cur) > 0 {
				groups = append(groups, cur)
				cur = nil
			}
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if len(cur) > 0 {
				cur[len(cur)-1].value += " " + strings.TrimSpace(line)
			}
			continue
		}
		i := strings.IndexByte(line, ':')
		if i <= 0 {
			continue
		}
		name := strings.ToLower(strings.TrimSpace(line[:i]))
		if strings.ContainsAny(name, " \t") {
			continue
		}
		cur = append(cur, dsField{name, strings.TrimSpace(line[i+1:])})
	}
	if len(cur) > 0 {
		groups = append(groups, cur)
	}
	return groups
}

// readDeliveryStatus reads the per-message and per-recipient fields of an
// RFC 3464 delivery-status (or RFC 6533 global-delivery-status) body.
// Recipients are split on blank lines as the RFC says, and also where a
// second Final-Recipient or Original-Recipient begins without one, as some
// MTAs write them.
func readDeliveryStatus(s string, r *Report) {
	var cur Recipient
	var has struct{ orig, final, action, status bool }
	flush := func() {
		if cur.Addr != "" || cur.Action != "" || cur.Status != "" {
			r.Recipients = append(r.Recipients, cur)
		}
		cur = Recipient{}
		has.orig, has.final, has.action, has.status = false, false, false, false
	}
	for _, g := range dsFields(s) {
		for _, f := range g {
			switch f.name {
			case "reporting-mta": // RFC 3464 2.2.2
				if r.ReportingMTA == "" {
					r.ReportingMTA = stripType(f.value)
				}
			case "x-postfix-sender", "x-original-sender", "x-sender":
				if r.Sender == "" {
					r.Sender = addrOf(f.value)
				}
			case "original-recipient": // RFC 3464 2.3.1
				if has.orig || (has.final && has.action) {
					flush()
				}
				has.orig = true
				if cur.Addr == "" {
					cur.Addr = addrOf(f.value)
				}
			case "final-recipient": // RFC 3464 2.3.2
				if has.final {
					flush()
				}
				has.final = true
				if a := addrOf(f.value); a != "" {
					cur.Addr = a
				}
			case "action": // RFC 3464 2.3.3
				if has.action {
					flush()
				}
				has.action = true
				cur.Action = firstWord(f.value)
			case "status": // RFC 3464 2.3.4
				has.status = true
				cur.Status = findStatus(f.value)
			case "remote-mta": // RFC 3464 2.3.5
				cur.RemoteMTA = stripType(f.value)
			case "diagnostic-code": // RFC 3464 2.3.6
				cur.Diagnostic = stripType(f.value)
			}
		}
		if has.orig || has.final || has.action {
			flush()
		}
	}
	flush()
	for i := range r.Recipients {
		rc := &r.Recipients[i]
		if rc.Status == "" {
			rc.Status = findStatus(rc.Diagnostic)
		}
	}
}

// typePrefix matches an RFC 3464 address-type, diagnostic-type or
// mta-name-type prefix such as "rfc822;", "smtp;" or "dns;".
var typePrefix = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9.+-]{0,30}[ \t]*;[ \t]*`)

// stripType removes a type prefix and surrounding space.
func stripType(v string) string {
	return strings.TrimSpace(typePrefix.ReplaceAllString(strings.TrimSpace(v), ""))
}

// addrOf reads the address of a recipient field: "rfc822; a@b",
// "RFC822;<a@b>", "utf-8; a\x{E9}@b" (RFC 6533 3), lowercased.
func addrOf(v string) string {
	v = strings.TrimSpace(v)
	typ := ""
	if m := typePrefix.FindString(v); m != "" {
		typ = strings.ToLower(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(m), ";")))
		v = v[len(m):]
	}
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			v = v[i+1 : i+j]
		}
	}
	v = strings.Trim(v, `"' `)
	if typ == "utf-8" {
		v = unescapeUTF8Addr(v)
	}
	if f := strings.Fields(v); len(f) > 0 {
		v = f[0]
	}
	return strings.ToLower(v)
}

var utf8Escape = regexp.MustCompile(`\\x\{([0-9A-Fa-f]{1,6})\}`)

// unescapeUTF8Addr decodes RFC 6533 3 embedded-unicode-char escapes
// ("\x{HHHH}") in a utf-8-address.
func unescapeUTF8Addr(s string) string {
	return utf8Escape.ReplaceAllStringFunc(s, func(m string) string {
		n, err := strconv.ParseUint(m[3:len(m)-1], 16, 32)
		if err != nil || n > 0x10FFFF || (n >= 0xD800 && n <= 0xDFFF) {
			return m
		}
		return string(rune(n))
	})
}

func firstWord(s string) string {
	if f := strings.Fields(strings.ToLower(s)); len(f) > 0 {
		return strings.Trim(f[0], ";,.()")
	}
	return ""
}

var (
	// statusAfterCode: "550 5.1.1", "550-5.1.1", "#550 5.1.1".
	statusAfterCode = regexp.MustCompile(`(?:^|[^0-9])[245][0-9][0-9][ \-]#?([245]\.[0-9]{1,3}\.[0-9]{1,3})(?:[^0-9.]|\.?$|\.[^0-9])`)
	// statusHash: qmail's and Exchange's "#5.1.1".
	statusHash = regexp.MustCompile(`#([245]\.[0-9]{1,3}\.[0-9]{1,3})(?:[^0-9.]|\.?$|\.[^0-9])`)
	// statusAny: an RFC 3463 code not part of a longer dotted number.
	statusAny = regexp.MustCompile(`(?:^|[^0-9.])([245]\.[0-9]{1,3}\.[0-9]{1,3})(?:[^0-9.]|\.?$|\.[^0-9])`)
)

// findStatus returns the first RFC 3463 enhanced status code in s,
// preferring one that follows an SMTP reply code.
func findStatus(s string) string {
	for _, re := range []*regexp.Regexp{statusAfterCode, statusHash, statusAny} {
		if m := re.FindStringSubmatch(s); m != nil {
			return m[1]
		}
	}
	return ""
}
