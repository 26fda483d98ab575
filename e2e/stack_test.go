//go:build e2e

package e2e

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-smtp"
)

// TestMailStackRoundTrip checks the stack itself: SMTP into Postfix, LMTP
// into Dovecot, IMAP back out (with IDLE), and the routing rules.
func TestMailStackRoundTrip(t *testing.T) {
	s := Stack(t)
	const alice = "alice@acme.test"
	s.Clear(t, alice)

	token := fmt.Sprintf("rt-%d", time.Now().UnixNano())
	msgID := token + "@acme.test"
	raw := []byte("From: Bob <bob@acme.test>\n" +
		"To: Alice <alice@acme.test>\n" +
		"Cc: mallory@evil.test\n" +
		"Subject: =?UTF-8?Q?Gr=C3=BC=C3=9Fe?= " + token + "\n" +
		"Message-ID: <" + msgID + ">\n" +
		"Date: " + time.Now().Format(time.RFC1123Z) + "\n" +
		"MIME-Version: 1.0\n" +
		"Content-Type: text/plain; charset=utf-8\n" +
		"Content-Transfer-Encoding: quoted-printable\n" +
		"\n" +
		"Hello Alice, body token " + token + " =E2=9C=93\n")

	start := time.Now()
	// evil.test is not local: accepted from loopback and discarded.
	s.Send(t, "bob@acme.test", []string{alice, "mallory@evil.test"}, raw)
	got := s.WaitFor(t, alice, 30*time.Second, func(f Fetched) bool { return f.MessageID() == msgID })
	t.Logf("delivered in %v: %s", time.Since(start), got)

	if want := "Grüße " + token; got.Subject() != want {
		t.Errorf("Subject = %q, want %q", got.Subject(), want)
	}
	if got.Header.Get("Return-Path") != "<bob@acme.test>" {
		t.Errorf("Return-Path = %q, want <bob@acme.test>", got.Header.Get("Return-Path"))
	}
	body, err := got.TextBody()
	if err != nil || !strings.Contains(body, "body token "+token+" ✓") {
		t.Errorf("TextBody = %q, %v", body, err)
	}
	// (Other tests' daemons may still deliver stray mail to alice: only
	// count our own message.)
	var ours []Fetched
	for _, f := range s.Messages(t, alice) {
		if f.MessageID() == msgID {
			ours = append(ours, f)
		}
	}
	if len(ours) != 1 || ours[0].UID != got.UID {
		t.Fatalf("Messages(alice) holds %v, want exactly the one sent (uid %d)", ours, got.UID)
	}
	for _, f := range ours[0].Flags {
		if f == string(imap.FlagSeen) {
			t.Errorf("Messages must not set \\Seen, flags = %v", ours[0].Flags)
		}
	}

	// IDLE is what helpdeskd relies on.
	c := s.Login(t, alice, nil)
	if !c.Caps().Has(imap.CapIdle) {
		t.Errorf("IMAP server does not advertise IDLE; caps = %v", c.Caps())
	}

	// Unknown users of local domains are rejected at RCPT time.
	err = s.TrySend("bob@acme.test", []string{"nobody@acme.test"}, raw)
	var se *smtp.SMTPError
	if !errors.As(err, &se) || se.Code != 550 {
		t.Errorf("send to unknown local user: err = %v, want 550", err)
	}

	// Other folders are seen by Clear too.
	s.Append(t, alice, "Processed", raw)
	if n := len(s.MessagesIn(t, alice, "Processed")); n != 1 {
		t.Errorf("Processed holds %d messages after Append, want 1", n)
	}
	s.Clear(t, alice)
	for _, mb := range s.Mailboxes(t, alice) {
		for _, f := range s.MessagesIn(t, alice, mb) {
			if f.MessageID() == msgID {
				t.Errorf("after Clear, %s still holds %s", mb, f)
			}
		}
	}
}

// TestMailStackAllUsers logs in as every provisioned user.
func TestMailStackAllUsers(t *testing.T) {
	s := Stack(t)
	for _, u := range Users {
		s.Login(t, u, nil)
	}
}
