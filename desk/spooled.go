package desk

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"

	"helpdeskd/mailin"
	"helpdeskd/store"
)

// bouncePrefix is how much of a spooled mail the bounce checks read. A
// delivery report puts its human-readable part and its
// message/delivery-status part before the returned message (RFC 3464 2,
// RFC 6522 3), and the returned message's header before its body, so
// what the report says and the Message-ID of the mail it is about are
// in its first bytes; the rest is the returned mail's body.
const bouncePrefix = 1 << 20

// mailBytes is an incoming mail's raw bytes: in memory, or, for a large
// mail, in a spool file that is read in place and never held whole.
type mailBytes struct {
	raw   []byte
	spool store.RawSource // nil: the bytes are raw
}

// bytesOf is the bytes of a fetched mail.
func bytesOf(m mailin.Mail) mailBytes {
	if m.Spool != nil {
		return mailBytes{spool: m.Spool}
	}
	return mailBytes{raw: m.Raw}
}

// parse parses the mail without keeping attachment bytes.
func (b mailBytes) parse(opts mailin.ParseOptions) (*mailin.Message, error) {
	if b.spool == nil {
		return mailin.ParseMeta(b.raw, opts)
	}
	return mailin.ParseMetaFrom(b.spool, b.spool.Size(), opts)
}

// keep has InsertMessage store the bytes of the mail with sm.
func (b mailBytes) keep(sm *store.StoredMessage) {
	if b.spool == nil {
		sm.Raw = b.raw
	} else {
		sm.RawFrom = b.spool
	}
}

// head is what the bounce checks read: the whole of a mail in memory,
// the first bouncePrefix bytes of a spooled one. An error wraps
// mailin.ErrSource.
func (b mailBytes) head() ([]byte, error) {
	if b.spool == nil {
		return b.raw, nil
	}
	h := make([]byte, min(b.spool.Size(), bouncePrefix))
	if n, err := b.spool.ReadAt(h, 0); n < len(h) {
		return nil, fmt.Errorf("%w: %d of %d bytes: %w", mailin.ErrSource, n, len(h), err)
	}
	return h, nil
}

// hash is the hex SHA-256 of the mail (Message.Hash when it parses).
func (b mailBytes) hash() (string, error) {
	if b.spool == nil {
		return sha256Hex(b.raw), nil
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(b.spool, 0, b.spool.Size())); err != nil {
		return "", fmt.Errorf("read spooled mail: %w", err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
