package mailout

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	gomail "github.com/wneessen/go-mail"
)

// Stage is the step of a delivery at which it failed.
type Stage string

// Stages of a delivery.
const (
	StageBuild   Stage = "build"   // the mail could not be put together
	StageConnect Stage = "connect" // dial, TLS, AUTH or the connection check
	StageMail    Stage = "mail"    // MAIL FROM
	StageRcpt    Stage = "rcpt"    // RCPT TO
	StageData    Stage = "data"    // DATA and the message content
	StageOutbox  Stage = "outbox"  // the outbox could not supply the mail
)

// DeliveryError is why a delivery attempt failed, with the SMTP reply that
// said so (in the style of maddy's exterrors): the reply code, the
// enhanced status code of RFC 3463, and whether trying again later can
// help. mailout alone decides Temporary: a 4xx reply or a network failure
// is temporary, a 5xx reply or a mail that cannot be built is not
// (RFC 5321 4.2.1).
type DeliveryError struct {
	Stage     Stage
	Code      int    // SMTP reply code; 0 when the server gave none
	Enhanced  string // e.g. "5.1.1"; "" when the server gave none
	Temporary bool
	// Reply is the server's reply as it gave it ("550 5.1.1 no such
	// user"); "" when there was none.
	Reply string
	Err   error
}

func (e *DeliveryError) Error() string {
	if e.Reply != "" {
		return string(e.Stage) + ": " + e.Reply
	}
	return string(e.Stage) + ": " + e.Err.Error()
}

func (e *DeliveryError) Unwrap() error { return e.Err }

// ErrNoAttachment is what an Outbox's Attachment returns (wrapped) for an
// attachment that does not exist: the mail cannot be built and fails at
// once. Any other error from Attachment is temporary.
var ErrNoAttachment = errors.New("attachment not found")

// Temporary reports whether a send error is worth retrying: a 4xx reply,
// or anything that is not an SMTP reply (dial, dropped connection).
func Temporary(err error) bool {
	var de *DeliveryError
	if errors.As(err, &de) {
		return de.Temporary
	}
	return classify(err).Temporary
}

// classify turns an error from go-mail into a DeliveryError.
func classify(err error) *DeliveryError {
	var de *DeliveryError
	if errors.As(err, &de) {
		return de
	}
	var se *gomail.SendError
	if !errors.As(err, &se) {
		// Not an SMTP reply: the dial or TLS failed, or the connection broke.
		return &DeliveryError{Stage: StageConnect, Temporary: true, Err: err}
	}
	d := &DeliveryError{Code: se.ErrorCode(), Enhanced: se.EnhancedStatusCode(), Reply: reply(se), Err: err}
	switch se.Reason {
	case gomail.ErrGetSender, gomail.ErrGetRcpts, gomail.ErrNoUnencoded:
		d.Stage = StageBuild
	case gomail.ErrSMTPMailFrom:
		d.Stage = StageMail
	case gomail.ErrSMTPRcptTo:
		d.Stage = StageRcpt
	case gomail.ErrSMTPData, gomail.ErrSMTPDataClose, gomail.ErrWriteContent:
		d.Stage = StageData
	default:
		d.Stage = StageConnect
	}
	switch {
	case d.Stage == StageBuild:
		d.Temporary = false
	case d.Code == 0:
		d.Temporary = true // no reply: the connection failed
	default:
		d.Temporary = d.Code >= 400 && d.Code < 500
	}
	return d
}

// reply is the server's reply inside a go-mail SendError, whose text is
// "REASON: REPLY[, affected recipient(s): …][, affected message ID: …]".
func reply(se *gomail.SendError) string {
	if se.ErrorCode() == 0 {
		return ""
	}
	text, ok := strings.CutPrefix(se.Error(), se.Reason.String()+": ")
	if !ok {
		return ""
	}
	text, _, _ = strings.Cut(text, ", affected recipient(s): ")
	text, _, _ = strings.Cut(text, ", affected message ID: ")
	// net/textproto writes the reply as `550 "5.1.1 no such user"`.
	if len(text) > 4 && text[3] == ' ' {
		if msg, err := strconv.Unquote(text[4:]); err == nil {
			text = text[:4] + strings.ReplaceAll(msg, "\n", " ")
		}
	}
	return text
}

var enhancedRE = regexp.MustCompile(`^([245])\.\d{1,3}\.\d{1,3}\b`)

// accepted parses the server's reply to the end of DATA (go-mail gives it
// without its code, which is 250): the enhanced status code, if any.
func accepted(response string) (code int, enhanced string) {
	return 250, enhancedRE.FindString(response)
}

// buildError is a mail that cannot be built: never retried.
func buildError(format string, args ...any) *DeliveryError {
	return &DeliveryError{Stage: StageBuild, Err: fmt.Errorf(format, args...)}
}

// Describe is the one-line form of a failure for an event: the server's
// reply as it gave it (reply code and enhanced status first) and the SMTP
// stage, e.g. "550 5.1.1 no such user (rcpt)", or the stage and the
// cause when there was no reply: "connect: dial tcp …: connection refused".
func Describe(e *DeliveryError) string {
	if e == nil {
		return ""
	}
	if e.Reply != "" {
		return e.Reply + " (" + string(e.Stage) + ")"
	}
	return e.Error()
}
