package mailin

import (
	"bytes"
	"fmt"
)

// ParseMeta parses raw like Parse, but keeps no attachment bytes: each
// Attachment has its name, type and Size, no Data, and Truncated set when
// it is larger than opts.MaxAttachment. The bytes stay in the raw message
// and are found again by AttachmentData, so a stored mail holds each of
// its bytes once.
func ParseMeta(raw []byte, opts ParseOptions) (*Message, error) {
	limit := opts.MaxAttachment
	if limit == 0 {
		limit = defaultMaxAttachment
	}
	m, err := Parse(bytes.NewReader(raw), ParseOptions{MaxAttachment: -1})
	if err != nil {
		return m, err
	}
	for i := range m.Attachments {
		a := &m.Attachments[i]
		a.Truncated = limit < 0 || a.Size > limit
	}
	return m, nil
}

// AttachmentData parses raw again and returns attachment number i (in the
// order of Message.Attachments) with its bytes, up to opts.MaxAttachment.
// The name and size recorded when the mail was stored must match; should
// the parser number the parts differently now, the attachment with that
// name and size is taken instead.
func AttachmentData(raw []byte, i int, name string, size int64, opts ParseOptions) (Attachment, error) {
	m, err := Parse(bytes.NewReader(raw), opts)
	if err != nil {
		return Attachment{}, fmt.Errorf("parse stored message: %w", err)
	}
	match := func(a Attachment) bool { return a.Filename == name && a.Size == size }
	if i >= 0 && i < len(m.Attachments) && match(m.Attachments[i]) {
		return m.Attachments[i], nil
	}
	for _, a := range m.Attachments {
		if match(a) {
			return a, nil
		}
	}
	return Attachment{}, fmt.Errorf("attachment %d (%q, %d bytes) not found in the stored message", i, name, size)
}
