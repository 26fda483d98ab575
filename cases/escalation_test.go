package cases

import "testing"

func TestEscalationKind(t *testing.T) {
	tests := []struct{ detail, want string }{
		{"no staff response by respond_by (escalation 2, to service_centre_manager); deadline 2026-11-26T14:30:00+08:00; priority high -> urgent", EscRespond},
		{"engineer stuck: not solved 30m0s after assignment; deadline x; priority a -> b", EscStuck},
		{"not solved online in time: on-site required, please dispatch (/onsite dispatch EMAIL); deadline x", EscSolve},
		{"not solved online, no on-site service; deadline x", EscSolve},
		{"engineer report@example.com not on site by onsite_by; deadline x", EscOnsite},
		{"inspection report overdue; deadline x", EscReport},
		{"something new; deadline x", EscOther},
		// As cases records them now: the kind first.
		{"respond: no staff response by respond_by (escalation 1, to customer_service_manager); deadline 2026-11-26T06:30:00Z; priority normal -> high", EscRespond},
		{"stuck: engineer stuck: not solved 30m0s after assignment; deadline x; priority a -> b", EscStuck},
		{"solve: not solved online in time; the customer has no on-site service; deadline x", EscSolve},
		{"onsite: engineer respond@example.com not on site by onsite_by; deadline x", EscOnsite},
		{"report: inspection report not sent by its due time; deadline x", EscReport},
	}
	for _, tt := range tests {
		if got := EscalationKind(tt.detail); got != tt.want {
			t.Errorf("EscalationKind(%q) = %s, want %s", tt.detail, got, tt.want)
		}
	}
}
