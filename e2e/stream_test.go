//go:build e2e

package e2e

import (
	"bytes"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// TestLargeMailOnRealStack (issue 10): a customer mail with an 8 MiB
// attachment, through Postfix into Dovecot, is fetched by way of a spool
// file: the case is opened and acknowledged, the mail is stored byte for
// byte as Dovecot holds it (in 1 MiB chunks, hash of those bytes), its
// attachment is recorded whole, and no spool file is left.
func TestLargeMailOnRealStack(t *testing.T) {
	s := Stack(t)
	resetMailboxes(t, s)
	d := startDaemon(t, s, "1h")
	att := make([]byte, 8<<20)
	for i := range att {
		att[i] = byte(i*31 + i>>12)
	}
	enc := base64.StdEncoding.EncodeToString(att)
	var b strings.Builder
	fmt.Fprintf(&b, "From: Alice <alice@acme.test>\r\nTo: support@example.test\r\nSubject: core dump attached\r\n"+
		"Message-ID: <big%d@acme.test>\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"=_b\"\r\n\r\n"+
		"--=_b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe service crashed; the core dump is attached.\r\n"+
		"--=_b\r\nContent-Type: application/octet-stream; name=\"core.bin\"\r\nContent-Disposition: attachment; filename=\"core.bin\"\r\n"+
		"Content-Transfer-Encoding: base64\r\n\r\n", time.Now().UnixNano(), time.Now().Format(time.RFC1123Z))
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--=_b--\r\n")
	s.Send(t, "alice@acme.test", []string{"support@example.test"}, []byte(b.String()))

	s.WaitFor(t, "alice@acme.test", 60*time.Second, func(f Fetched) bool {
		return strings.Contains(header(t, f.Raw, "Subject"), "[Case#1]")
	})
	processed := s.WaitForIn(t, "support@example.test", "Processed", 30*time.Second, func(f Fetched) bool {
		return strings.Contains(header(t, f.Raw, "Subject"), "core dump")
	})

	db := filepath.Join(filepath.Dir(d.cfgPath), "hd.db")
	q, err := sql.Open("sqlite", "file:"+db+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var id, rawSize, size int64
	var hash string
	var truncated bool
	if err := q.QueryRow("SELECT id, raw_size, hash FROM messages WHERE case_number = 1").Scan(&id, &rawSize, &hash); err != nil {
		t.Fatal(err)
	}
	rows, err := q.Query("SELECT data FROM message_chunks WHERE message = ? ORDER BY seq", id)
	if err != nil {
		t.Fatal(err)
	}
	var raw []byte
	for rows.Next() {
		var c []byte
		if err := rows.Scan(&c); err != nil {
			t.Fatal(err)
		}
		raw = append(raw, c...)
	}
	rows.Close()
	sum := sha256.Sum256(raw)
	if !bytes.Equal(raw, processed.Raw) || rawSize != int64(len(raw)) || hash != hex.EncodeToString(sum[:]) {
		t.Errorf("stored %d bytes (raw_size %d, hash %s), Dovecot holds %d", len(raw), rawSize, hash, len(processed.Raw))
	}
	if err := q.QueryRow("SELECT size, truncated FROM attachments WHERE message = ?", id).Scan(&size, &truncated); err != nil || size != int64(len(att)) || truncated {
		t.Errorf("attachment size %d truncated %v (%v), want %d", size, truncated, err, len(att))
	}
	left, err := os.ReadDir(db + ".spool")
	if err != nil || len(left) > 0 {
		t.Errorf("spool dir: %v, %d files left", err, len(left))
	}

	// The engineer answers with a 3 MiB build: the desk relays it from the
	// stored mail through a file, and the sender streams it through
	// Postfix; the customer's copy holds the same bytes.
	build := att[:3<<20+5]
	enc = base64.StdEncoding.EncodeToString(build)
	b.Reset()
	fmt.Fprintf(&b, "From: Wang Wei <eng1@example.test>\r\nTo: support@example.test\r\nSubject: Re: [Case#1] core dump attached\r\n"+
		"Message-ID: <fix%d@example.test>\r\nDate: %s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"=_f\"\r\n\r\n"+
		"--=_f\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe fixed build is attached.\r\n"+
		"--=_f\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"build.bin\"\r\n"+
		"Content-Transfer-Encoding: base64\r\n\r\n", time.Now().UnixNano(), time.Now().Format(time.RFC1123Z))
	for len(enc) > 72 { // another client's line length
		b.WriteString(enc[:72] + "\r\n")
		enc = enc[72:]
	}
	b.WriteString(enc + "\r\n--=_f--\r\n")
	s.Send(t, "eng1@example.test", []string{"support@example.test"}, []byte(b.String()))
	relay := s.WaitFor(t, "alice@acme.test", 60*time.Second, func(f Fetched) bool {
		return bytes.Contains(f.Raw, []byte("build.bin"))
	})
	var got []byte
	for _, a := range attachmentsOf(t, relay.Raw) {
		if a.name == "build.bin" {
			got = a.data
		}
	}
	if !bytes.Equal(got, build) || !strings.Contains(bodyOf(t, relay.Raw), "fixed build") {
		t.Errorf("relayed build: %d bytes, want %d; text %q", len(got), len(build), bodyOf(t, relay.Raw))
	}
	if left, _ := os.ReadDir(db + ".spool"); len(left) > 0 {
		t.Errorf("%d files left in the spool dir after the relay", len(left))
	}
}
