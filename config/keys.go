package config

import (
	"fmt"
	"net/mail"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"helpdeskd/calendar"
)

// Each key of the file is declared once, where its section is read: its
// name, its default as it would be written in the file, and a reader that
// checks the value and stores it in the Config (the way maddy declares
// its directives). A default goes through the same reader as a value from
// the file, so the two cannot disagree, and the declared defaults can be
// compared with config.example.toml (see TestExampleShowsDefaults).

// table is one TOML table being read: [mailbox], one [[customers]] entry,
// one inline contact.
type table struct {
	v       *validator
	path    string         // dotted path: "mailbox", "customers.0.contacts.1"
	name    string         // its last part: "mailbox", "1"
	pattern string         // the same with entry indices and names as "*"
	vals    map[string]any // as decoded by BurntSushi/toml
	used    map[string]bool
}

// reader checks one value (from the file, or the default) and stores it.
// It reports problems against key.
type reader func(v *validator, key string, val any)

// requirement is the default of a key that must be given; the text says
// what a value looks like.
type requirement string

// required returns the default of a key that has none and must be given.
func required(like string) requirement { return requirement(like) }

// key declares one key of t. def is nil (optional, no default: the
// target keeps its zero value), a requirement, or a TOML value (string,
// int, bool, []string, []int) read exactly as if the file held it.
func (t *table) key(name string, def any, read reader) {
	key := t.join(name)
	if _, isReq := def.(requirement); !isReq && def != nil {
		t.v.declare(joinKey(t.pattern, name), def)
	}
	val, ok := t.vals[name]
	t.used[name] = true
	switch {
	case ok:
		read(t.v, key, val)
	case def == nil:
	default:
		if r, isReq := def.(requirement); isReq {
			if r == "" {
				t.v.add(key, "is required")
			} else {
				t.v.add(key, "is required (%s)", string(r))
			}
			return
		}
		read(t.v, key, def)
	}
}

// has reports whether the file gives the key (for rules between keys).
func (t *table) has(name string) bool { _, ok := t.vals[name]; return ok }

func (t *table) join(name string) string { return joinKey(t.path, name) }

func joinKey(prefix, name string) string {
	if prefix == "" {
		return name
	}
	return prefix + "." + name
}

// sub returns the table under name: an empty one if the file has none,
// or if name holds something else (reported as a wrong type).
func (t *table) sub(name string) *table { return t.subAs(name, joinKey(t.pattern, name)) }

// subAs is sub with the key pattern its declarations are recorded under.
func (t *table) subAs(name, pattern string) *table {
	t.used[name] = true
	key := t.join(name)
	st := &table{v: t.v, path: key, name: name, pattern: pattern, vals: map[string]any{}, used: map[string]bool{}}
	val, ok := t.vals[name]
	if !ok {
		return st
	}
	m, ok := val.(map[string]any)
	if !ok {
		t.v.wrongType(key, "a table", val)
		return st
	}
	st.vals = m
	return st
}

// named returns the sub-tables of a table of tables ([plans.NAME]) in
// name order.
func (t *table) named() []*table {
	var out []*table
	for _, name := range sortedKeys(t.vals) {
		out = append(out, t.subAs(name, joinKey(t.pattern, "*")))
	}
	return out
}

// entries returns the tables of an array of tables ([[staff]], or an
// inline list of tables like contacts = [{...}]).
func (t *table) entries(name string) []*table {
	t.used[name] = true
	key := t.join(name)
	val, ok := t.vals[name]
	if !ok {
		return nil
	}
	var maps []map[string]any
	switch l := val.(type) {
	case []map[string]any:
		maps = l
	case []any:
		for _, e := range l {
			m, ok := e.(map[string]any)
			if !ok {
				t.v.wrongType(key, "a list of tables", val)
				return nil
			}
			maps = append(maps, m)
		}
	default:
		t.v.wrongType(key, "a list of tables", val)
		return nil
	}
	out := make([]*table, len(maps))
	for i, m := range maps {
		out[i] = &table{v: t.v, path: fmt.Sprintf("%s.%d", key, i), name: strconv.Itoa(i), pattern: joinKey(t.pattern, name) + ".*",
			vals: m, used: map[string]bool{}}
	}
	return out
}

// done reports the keys of t that no declaration read, once each.
func (t *table) done() {
	for _, name := range sortedKeys(t.vals) {
		if t.used[name] {
			continue
		}
		if _, isTable := t.vals[name].(map[string]any); isTable {
			t.v.add(t.join(name), "unknown table")
		} else {
			t.v.add(t.join(name), "unknown key")
		}
	}
}

// Readers.

func (v *validator) wrongType(key, want string, val any) {
	v.add(key, "wrong type: want %s, got %s", want, tomlType(val))
}

// tomlType names the TOML type of a decoded value for messages.
func tomlType(val any) string {
	switch val.(type) {
	case string:
		return "a string"
	case int, int64:
		return "an integer"
	case float64:
		return "a number"
	case bool:
		return "true or false"
	case map[string]any:
		return "a table"
	case []any, []map[string]any, []string, []int:
		return "a list"
	}
	return "a date or time"
}

func (v *validator) str(key string, val any) (string, bool) {
	s, ok := val.(string)
	if !ok {
		v.wrongType(key, "a string", val)
	}
	return s, ok
}

func (v *validator) integer(key string, val any) (int64, bool) {
	switch n := val.(type) {
	case int64:
		return n, true
	case int:
		return int64(n), true
	}
	v.wrongType(key, "an integer", val)
	return 0, false
}

func (v *validator) strs(key string, val any) ([]string, bool) {
	switch l := val.(type) {
	case []string:
		return l, true
	case []any:
		out := make([]string, 0, len(l))
		for _, e := range l {
			s, ok := e.(string)
			if !ok {
				v.add(key, "wrong type: want a list of strings, got %s in it", tomlType(e))
				return nil, false
			}
			out = append(out, s)
		}
		return out, true
	}
	v.wrongType(key, "a list of strings", val)
	return nil, false
}

// text reads any string.
func text(dst *string) reader {
	return fromString(func(_ *validator, _, s string) { *dst = s })
}

// oneOf reads a string out of a fixed set.
func oneOf(dst *string, allowed ...string) reader {
	return fromString(func(v *validator, key, s string) {
		if !slices.Contains(allowed, s) {
			v.add(key, "%q is not one of %s", s, strings.Join(allowed, ", "))
			return
		}
		*dst = s
	})
}

func tlsMode(dst *TLSMode) reader {
	return func(v *validator, key string, val any) {
		var s string
		oneOf(&s, string(TLSImplicit), string(TLSStartTLS), string(TLSNone))(v, key, val)
		if s != "" {
			*dst = TLSMode(s)
		}
	}
}

func boolean(dst *bool) reader {
	return func(v *validator, key string, val any) {
		b, ok := val.(bool)
		if !ok {
			v.wrongType(key, "true or false", val)
			return
		}
		*dst = b
	}
}

func stringList(dst *[]string) reader {
	return fromStrings(func(_ *validator, _ string, l []string) { *dst = l })
}

// positive and allowZero say whether a duration may be "0s".
const (
	positive  = false
	allowZero = true
)

func duration(dst *time.Duration, zeroOK bool) reader {
	return fromString(func(v *validator, key, s string) {
		if d, ok := v.parseDuration(key, s, zeroOK); ok {
			*dst = d
		}
	})
}

func (v *validator) parseDuration(key, s string, zeroOK bool) (time.Duration, bool) {
	d, err := time.ParseDuration(s)
	if err != nil {
		v.add(key, "%q is not a duration (like \"30s\", \"10m\", \"4h\")", s)
		return 0, false
	}
	if d < 0 || (d == 0 && !zeroOK) {
		v.add(key, "must be positive, got %q", s)
		return 0, false
	}
	return d, true
}

func deadline(dst *calendar.Deadline) reader {
	return fromString(func(v *validator, key, s string) {
		d, err := calendar.ParseDeadline(s)
		if err != nil {
			v.add(key, "%v", err)
			return
		}
		*dst = d
	})
}

// hostPort reads "host:port".
func hostPort(dst *string) reader {
	return fromString(func(v *validator, key, s string) {
		*dst = s
		i := strings.LastIndexByte(s, ':')
		if i <= 0 {
			v.add(key, "%q is not host:port", s)
			return
		}
		if p, err := strconv.Atoi(s[i+1:]); err != nil || p < 1 || p > 65535 {
			v.add(key, "%q: port must be 1-65535", s)
		}
	})
}

// emailAddr reads a bare address and lowercases it.
func emailAddr(dst *string) reader {
	return fromString(func(v *validator, key, s string) {
		a, err := mail.ParseAddress(s)
		if err != nil || a.Name != "" {
			v.add(key, "%q is not an email address", s)
			*dst = strings.ToLower(s)
			return
		}
		*dst = strings.ToLower(a.Address)
	})
}

// filePath reads a path, relative to the directory of the config file
// (SPEC §11.3). rel, if not nil, is set when the file gave a relative
// path. An empty string stays empty.
func filePath(dst *string, rel *bool) reader {
	return fromString(func(v *validator, key, s string) {
		if s == "" {
			return
		}
		if !filepath.IsAbs(s) {
			s = filepath.Join(v.dir, s)
			if rel != nil {
				*rel = true
			}
		}
		*dst = s
	})
}

// location reads a time zone name: an IANA name, "UTC", or "Local" (the
// system's zone); "" is UTC, as for time.LoadLocation.
func location(dst **time.Location) reader {
	return fromString(func(v *validator, key, s string) {
		l, err := time.LoadLocation(s)
		if err != nil {
			v.add(key, "unknown time zone %q (want an IANA name like \"Asia/Shanghai\", or \"Local\")", s)
			return
		}
		*dst = l
	})
}

// fromString makes a reader of a key whose value is a string.
func fromString(read func(v *validator, key, s string)) reader {
	return func(v *validator, key string, val any) {
		if s, ok := v.str(key, val); ok {
			read(v, key, s)
		}
	}
}

// fromStrings makes a reader of a key whose value is a list of strings.
func fromStrings(read func(v *validator, key string, l []string)) reader {
	return func(v *validator, key string, val any) {
		if l, ok := v.strs(key, val); ok {
			read(v, key, l)
		}
	}
}
