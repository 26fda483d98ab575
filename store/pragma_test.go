package store

import "testing"

// The writer checkpoints less often; both keep SQLite's default page
// cache (caches add up in RSS).
func TestWriterPragmas(t *testing.T) {
	db := openTest(t)
	for _, tc := range []struct {
		conn   string
		pragma string
		want   int
	}{
		{"writer", "cache_size", -2000},
		{"writer", "wal_autocheckpoint", 4000},
		{"writer", "synchronous", 1}, // NORMAL
		{"reader", "cache_size", -2000},
		{"reader", "query_only", 1},
	} {
		q := db.w
		if tc.conn == "reader" {
			q = db.r
		}
		var got int
		if err := q.QueryRow("PRAGMA " + tc.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s: PRAGMA %s = %d, want %d", tc.conn, tc.pragma, got, tc.want)
		}
	}
}
