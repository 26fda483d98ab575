package cases

import (
	"slices"
	"strings"
	"time"

	"helpdeskd/config"
)

// Deadlines computes respond_by and solve_online_by for a case of the
// given severity opened at t on plan p (SPEC §1.1, §10). The plan's
// respond_within (the 7×24 promise) caps respond_by.
func Deadlines(cfg *config.Config, p config.Plan, severity int, t time.Time) (respondBy, solveBy time.Time) {
	sev, ok := cfg.Severities[severity]
	if !ok {
		return time.Time{}, time.Time{}
	}
	respondBy = sev.Respond.After(p.Calendar, t)
	if p.RespondWithin > 0 {
		if c := t.Add(p.RespondWithin); c.Before(respondBy) {
			respondBy = c
		}
	}
	solveBy = sev.SolveOnline.After(p.Calendar, t)
	return respondBy, solveBy
}

// Route picks the engineer for a case of a region: the engineers of that
// region (all engineers if none serves it), the one with the fewest open
// cases, config order breaking ties. load maps engineer address to open
// cases. It returns "" when no engineer is configured.
func Route(cfg *config.Config, region string, load map[string]int) string {
	var pool []config.Staff
	for _, s := range cfg.StaffWithRole("engineer") {
		if region != "" && slices.Contains(s.Regions, region) {
			pool = append(pool, s)
		}
	}
	if len(pool) == 0 {
		pool = cfg.StaffWithRole("engineer")
	}
	best := ""
	for _, s := range pool {
		if best == "" || load[s.Email] < load[best] {
			best = s.Email
		}
	}
	return best
}

// StepPriority moves a priority by delta steps within config.Priorities.
func StepPriority(p string, delta int) string {
	i := slices.Index(config.Priorities, p)
	if i < 0 {
		i = 1
	}
	i = max(0, min(len(config.Priorities)-1, i+delta))
	return config.Priorities[i]
}

// IsConfirmation reports whether a customer's reply confirms the fix: one
// of the confirm words appears as a word in its first lines (SPEC §1.5).
// Only the text above any quote is considered, so a quoted "confirm" in
// the request does not count.
func IsConfirmation(text string, words []string) bool {
	var first []string
	for _, l := range strings.Split(strings.ToLower(text), "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if strings.HasPrefix(l, ">") || len(first) == 3 {
			break
		}
		first = append(first, l)
	}
	for _, l := range first {
		// "Yes, still broken", "问题依旧": the fault is not solved.
		for _, s := range stillBroken {
			if containsWord(l, s) {
				return false
			}
		}
	}
	for _, l := range first {
		for _, w := range words {
			w = strings.ToLower(w)
			if containsWord(l, w) {
				return true
			}
		}
	}
	return false
}

// stillBroken are words that say the fault is still there; a reply with
// one of them in its first lines is no confirmation.
var stillBroken = []string{"still", "仍", "依旧", "依然", "还是"}

// cjkNotConfirming are the words that, right before a CJK confirm word,
// turn it into no confirmation.
var cjkNotConfirming = []string{"未", "没有", "不", "无法", "不能", "没法", "请", "帮忙", "麻烦"}

// containsWord matches w in l at word boundaries for ASCII words, and as a
// substring for CJK words (which are not separated by spaces). A negation
// right before an ASCII word ("not solved") does not count.
func containsWord(l, w string) bool {
	if w == "" {
		return false
	}
	ascii := true
	for _, r := range w {
		if r > 127 {
			ascii = false
		}
	}
	if !ascii {
		i := strings.Index(l, w)
		if i < 0 {
			return false
		}
		before := l[:i]
		// A negation ("未解决"), an inability ("无法确认") or a request to
		// us ("请确认", "请帮忙确认") is no confirmation.
		for _, p := range cjkNotConfirming {
			if strings.HasSuffix(before, p) {
				return false
			}
		}
		return true
	}
	f := strings.FieldsFunc(l, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '\'')
	})
	for i, x := range f {
		if x == w {
			if i > 0 && (f[i-1] == "not" || f[i-1] == "isn't" || f[i-1] == "no" || f[i-1] == "never" || f[i-1] == "don't") {
				return false
			}
			return true
		}
	}
	return false
}
