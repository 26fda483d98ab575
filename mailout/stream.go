package mailout

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"strings"
	"time"

	"github.com/wneessen/go-mail/smtp"
)

// A mail with a large attachment (a File with a Body) is sent on its own
// connection, its attachment streamed from the file as the mail is
// written to the server: go-mail encodes each part into a buffer before
// writing it, which for a 50 MiB attachment is a 68 MiB buffer grown by
// doubling (issue 10: the daemon's memory stays bounded). The mail is
// built by Build as any other, with a short random placeholder for each
// such attachment; the placeholder's one line of base64 is replaced, as
// the mail is written, by the file's base64 in lines of 76 (RFC 2045
// 6.8). Replies and errors are read as for any mail (DeliveryError).

// hasBody reports whether any file is to be streamed.
func hasBody(files []File) bool {
	for _, f := range files {
		if f.Body != nil {
			return true
		}
	}
	return false
}

// sendStreaming sends it with files, streaming those with a Body.
func (s *Sender) sendStreaming(ctx context.Context, it Item, files []File) (string, error) {
	tokens := map[string]io.Reader{}
	built := make([]File, len(files))
	for i, f := range files {
		built[i] = f
		if f.Body == nil {
			continue
		}
		var b [24]byte
		crand.Read(b[:])
		tokens[base64.StdEncoding.EncodeToString(b[:])] = f.Body
		built[i] = File{Name: f.Name, ContentType: f.ContentType, Data: b[:]}
	}
	m, err := Build(it.Mail, s.From, built)
	if err != nil {
		return "", &DeliveryError{Stage: StageBuild, Err: err}
	}
	from, err := m.GetSender(false)
	if err != nil {
		return "", &DeliveryError{Stage: StageBuild, Err: err}
	}
	rcpts, err := m.GetRecipients()
	if err != nil {
		return "", &DeliveryError{Stage: StageBuild, Err: err}
	}
	c, err := NewClient(s.Server)
	if err != nil {
		return "", &DeliveryError{Stage: StageConnect, Temporary: true, Err: err}
	}
	dctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	sc, err := c.DialToSMTPClientWithContext(dctx)
	cancel()
	if err != nil {
		return "", &DeliveryError{Stage: StageConnect, Temporary: true, Err: fmt.Errorf("connect smtp %s:%d: %w", s.Server.Host, s.Server.Port, err)}
	}
	defer sc.Close()
	timeout := s.Server.Timeout
	if timeout == 0 {
		timeout = 30 * time.Second
	}
	esc, _ := sc.Extension("ENHANCEDSTATUSCODES")
	if err := sc.Mail(from); err != nil {
		return "", smtpError(StageMail, err, esc)
	}
	// Every recipient is tried and the last refusal decides, as go-mail
	// does for any other mail.
	var refused error
	for _, r := range rcpts {
		if err := sc.Rcpt(r); err != nil {
			refused = err
		}
	}
	if refused != nil {
		return "", smtpError(StageRcpt, refused, esc)
	}
	w, err := sc.Data()
	if err != nil {
		return "", smtpError(StageData, err, esc)
	}
	// Each MiB written moves the deadline on, and a shutdown stops the
	// mail before its end of DATA (so it is not sent, and is tried again).
	sp := &splicer{w: w, tokens: tokens, extend: func() error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return sc.UpdateDeadline(timeout)
	}}
	if _, err := m.WriteTo(sp); err != nil {
		return "", &DeliveryError{Stage: StageData, Temporary: true, Err: err} // the deferred Close drops the connection: nothing is sent
	}
	if err := sp.flush(); err != nil {
		return "", &DeliveryError{Stage: StageData, Temporary: true, Err: err}
	}
	if len(sp.tokens) > 0 {
		// A placeholder was not found: the mail would go out without its
		// file. Dropping the connection before the end of DATA sends
		// nothing.
		return "", buildError("attachment placeholder not found in the built mail")
	}
	// The reply to the end of DATA may take a while after a large mail (a
	// content filter reads it all): RFC 5321 4.5.3.2.6 gives it 10
	// minutes. Timing out early would send an accepted mail again.
	if err := sc.UpdateDeadline(max(timeout, 10*time.Minute)); err != nil {
		return "", &DeliveryError{Stage: StageData, Temporary: true, Err: err}
	}
	if err := w.Close(); err != nil {
		return "", smtpError(StageData, err, esc)
	}
	resp := ""
	if dc, ok := w.(*smtp.DataCloser); ok {
		resp = dc.ServerResponse()
	}
	_ = sc.Quit() // the mail is accepted; the reply to QUIT changes nothing
	return resp, nil
}

// smtpError turns an error of an SMTP command into a DeliveryError as
// classify does for go-mail's: the server's reply on one line (4xx
// temporary, 5xx not), its enhanced status code when the server
// announced ENHANCEDSTATUSCODES (esc), or no reply (the connection
// failed: temporary).
func smtpError(stage Stage, err error, esc bool) *DeliveryError {
	var te *textproto.Error
	if !errors.As(err, &te) {
		return &DeliveryError{Stage: stage, Temporary: true, Err: err}
	}
	d := &DeliveryError{Stage: stage, Code: te.Code, Reply: fmt.Sprintf("%d %s", te.Code, strings.ReplaceAll(te.Msg, "\n", " ")),
		Temporary: te.Code >= 400 && te.Code < 500, Err: err}
	if esc {
		d.Enhanced = enhancedRE.FindString(te.Msg)
	}
	return d
}

// splicer passes a mail through to w line by line, writing in place of a
// line that is one of tokens the base64 of that token's reader.
type splicer struct {
	w      io.Writer
	tokens map[string]io.Reader // removed once written
	line   []byte
	extend func() error // moves the connection's deadline on, once per MiB
	since  int
}

func (s *splicer) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			s.line = append(s.line, p...)
			break
		}
		s.line = append(s.line, p[:i+1]...)
		p = p[i+1:]
		if err := s.emit(); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// emit writes the complete line held.
func (s *splicer) emit() error {
	line := s.line
	s.line = s.line[:0]
	if r, ok := s.tokens[string(bytes.TrimRight(line, "\r\n"))]; ok {
		delete(s.tokens, string(bytes.TrimRight(line, "\r\n")))
		return s.stream(r)
	}
	return s.write(line)
}

func (s *splicer) write(b []byte) error {
	if s.since += len(b); s.since > 1<<20 && s.extend != nil {
		s.since = 0
		if err := s.extend(); err != nil {
			return err
		}
	}
	_, err := s.w.Write(b)
	return err
}

// stream writes r in base64, 76 characters and CRLF a line.
func (s *splicer) stream(r io.Reader) error {
	in := make([]byte, 57*1024) // 57 bytes are one line of 76
	out := make([]byte, 0, 78*1024)
	for {
		n, err := io.ReadFull(r, in)
		if n > 0 {
			out = out[:0]
			for off := 0; off < n; off += 57 {
				chunk := in[off:min(off+57, n)]
				out = base64.StdEncoding.AppendEncode(out, chunk)
				out = append(out, '\r', '\n')
			}
			if werr := s.write(out); werr != nil {
				return werr
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read attachment: %w", err)
		}
	}
}

// flush writes a last line without a line end.
func (s *splicer) flush() error {
	if len(s.line) == 0 {
		return nil
	}
	return s.emit()
}
