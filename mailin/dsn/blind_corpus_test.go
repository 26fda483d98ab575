package dsn

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"helpdeskd/cases"
)

// testdata-blind holds bounces of helpdeskd's own mail written apart from
// the reader: each returned message or bounce text names one of our
// Message-IDs, and Read must find it so that the bounce lands on its case.
// NAME.json beside NAME.eml gives the expected Message-ID (message_ids[0])
// and the MTA that wrote it (style).

func TestBlindCorpus(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata-blind", "*.eml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Fatalf("blind bounce corpus has %d messages, want at least 30", len(files))
	}
	landed := 0
	for _, f := range files {
		name := filepath.Base(f)
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		side, err := os.ReadFile(strings.TrimSuffix(f, ".eml") + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var want struct {
			Style      string   `json:"style"`
			MessageIDs []string `json:"message_ids"`
		}
		if err := json.Unmarshal(side, &want); err != nil || len(want.MessageIDs) == 0 {
			t.Fatalf("%s: bad sidecar: %v", name, err)
		}
		wantCase, ok := cases.CaseFromMessageID(want.MessageIDs[0], "example.com")
		if !ok {
			t.Fatalf("%s: sidecar id %q is not one of ours", name, want.MessageIDs[0])
		}
		r, ok := Read(raw)
		if !ok {
			t.Errorf("%s (%s): not read as a bounce", name, want.Style)
			continue
		}
		found := false
		for _, id := range r.MessageIDs {
			if n, ok := cases.CaseFromMessageID(id, "example.com"); ok && n == wantCase {
				found = true
			}
		}
		if !found {
			t.Errorf("%s (%s, form %s): case %d not found; MessageIDs = %q", name, want.Style, r.Form, wantCase, r.MessageIDs)
			continue
		}
		if !slices.Contains(r.MessageIDs, want.MessageIDs[0]) {
			t.Errorf("%s: MessageIDs %q lack %q", name, r.MessageIDs, want.MessageIDs[0])
			continue
		}
		landed++
	}
	t.Logf("blind bounces: %d/%d land on their case (%.1f%%)", landed, len(files),
		100*float64(landed)/float64(len(files)))
}
