package cases

import "testing"

func TestEscalationKind(t *testing.T) {
	tests := []struct{ detail, want string }{
		{"no staff response by respond_by (escalation 2, to service_centre_manager); deadline 2026-11-26T14:30:00+08:00; priority high -> urgent", EscalationRespond},
		{"engineer stuck: not solved 30m0s after assignment; deadline x; priority a -> b", EscalationStuck},
		{"not solved online in time: on-site required, please dispatch (/onsite dispatch EMAIL); deadline x", EscalationSolve},
		{"not solved online, no on-site service; deadline x", EscalationSolve},
		{"engineer report@example.com not on site by onsite_by; deadline x", EscalationOnsite},
		{"inspection report overdue; deadline x", EscalationReport},
		{"something new; deadline x", EscalationOther},
		// As cases records them now: the kind first.
		{"respond: no staff response by respond_by (escalation 1, to customer_service_manager); deadline 2026-11-26T06:30:00Z; priority normal -> high", EscalationRespond},
		{"stuck: engineer stuck: not solved 30m0s after assignment; deadline x; priority a -> b", EscalationStuck},
		{"solve: not solved online in time; the customer has no on-site service; deadline x", EscalationSolve},
		{"onsite: engineer respond@example.com not on site by onsite_by; deadline x", EscalationOnsite},
		{"report: inspection report not sent by its due time; deadline x", EscalationReport},
	}
	for _, tt := range tests {
		if got := EscalationKind(tt.detail); got != tt.want {
			t.Errorf("EscalationKind(%q) = %s, want %s", tt.detail, got, tt.want)
		}
	}
}
