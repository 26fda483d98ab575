package mailin

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"mime"
	"mime/quotedprintable"
	"strconv"
	"strings"

	"github.com/emersion/go-message/textproto"
)

// skeletonFrom is the raw size above which ParseMeta parses a skeleton of
// the message: its large attachments' bodies are counted as they are
// read, never decoded into memory.
const skeletonFrom = 1 << 20

// skeletonPart is the size above which an attachment's body is left out
// of the skeleton.
const skeletonPart = 64 << 10

// ParseMeta parses raw like Parse, but keeps no attachment bytes: each
// Attachment has its name, type and Size, no Data, and Truncated set when
// it is larger than opts.MaxAttachment. The bytes stay in the raw message
// and are found again by AttachmentData, so a stored mail holds each of
// its bytes once. A large message is parsed from a skeleton in which each
// large attachment is only counted, so parsing holds neither a second
// copy of the message nor the decoded attachments.
func ParseMeta(raw []byte, opts ParseOptions) (*Message, error) {
	return parseMeta(bytes.NewReader(raw), int64(len(raw)), func() ([]byte, error) { return raw, nil }, opts)
}

// ErrSource is wrapped by the error ParseMetaFrom returns when the
// message could not be read from its source (an I/O error, fewer bytes
// than its size): unlike an unreadable message, it says nothing about
// the mail, and reading it again may succeed.
var ErrSource = errors.New("read message source")

// ErrTooLarge is wrapped by the error ParseMetaFrom returns for a message
// that would have to be read whole into memory to be parsed (its skeleton
// cannot be used) and is larger than MaxWhole: it is unreadable for the
// desk (quarantined, its raw copy kept), where reading it would take the
// daemon's memory, again on every restart.
var ErrTooLarge = errors.New("message too large to parse in memory")

// MaxWhole is the largest message ParseMetaFrom reads whole into memory
// when its skeleton cannot be used. A variable so that tests can lower it.
var MaxWhole int64 = 64 << 20

// ParseMetaFrom parses the size bytes of r and returns what ParseMeta
// returns for the same bytes. A large message whose skeleton reads the
// same is parsed in one pass over r that also computes Hash, holding only
// the skeleton (headers, text parts, small attachments, a counter per
// large attachment), never the message. Any other message is read into
// memory and parsed whole, as ParseMeta does: small ones, and large ones
// of a structure the skeleton cannot be sure of, or without large
// attachments (their text is in the Message anyway), up to MaxWhole; a
// larger one is an error wrapping ErrTooLarge. An error from r is
// returned wrapping ErrSource, never parsed as damaged mail.
func ParseMetaFrom(r io.ReaderAt, size int64, opts ParseOptions) (*Message, error) {
	if size < 0 {
		return nil, fmt.Errorf("%w: size %d", ErrSource, size)
	}
	whole := func() ([]byte, error) {
		if size > MaxWhole {
			return nil, fmt.Errorf("%w: %d MiB of a structure read whole (limit %d MiB)", ErrTooLarge, size>>20, MaxWhole>>20)
		}
		raw := make([]byte, size)
		if n, err := r.ReadAt(raw, 0); n < len(raw) {
			return nil, fmt.Errorf("%w: %d of %d bytes: %w", ErrSource, n, size, err)
		}
		return raw, nil
	}
	return parseMeta(io.NewSectionReader(r, 0, size), size, whole, opts)
}

// parseMeta is ParseMeta and ParseMetaFrom: r reads the message's size
// bytes from the start, whole returns them in memory.
func parseMeta(r io.Reader, size int64, whole func() ([]byte, error), opts ParseOptions) (*Message, error) {
	limit := opts.MaxAttachment
	if limit == 0 {
		limit = defaultMaxAttachment
	}
	m, err := parseSkeleton(r, size)
	if err != nil {
		return nil, err
	}
	if m == nil {
		raw, err := whole()
		if err != nil {
			return nil, err
		}
		m, err = Parse(bytes.NewReader(raw), ParseOptions{MaxAttachment: -1})
		if err != nil {
			return m, err
		}
	}
	for i := range m.Attachments {
		a := &m.Attachments[i]
		a.Truncated = limit < 0 || a.Size > limit
	}
	return m, nil
}

// parseSkeleton parses a large message from its skeleton, read from r in
// one pass that also hashes the message. It returns nil when the message
// is small or its structure is not plain enough to be sure the skeleton
// reads the same (the caller then parses it whole), and an error wrapping
// ErrSource only when r fails.
func parseSkeleton(r io.Reader, size int64) (*Message, error) {
	if size < skeletonFrom {
		return nil, nil
	}
	m, _, _, err := readSkeleton(r, size, &skeleton{capture: -1})
	return m, err
}

// readSkeleton reads the message in r (size bytes) through sk, as
// parseSkeleton does whatever its size, and returns the Message, the
// marker of each of its attachments (-1 for one copied whole into the
// skeleton) and the skeleton itself. m is nil when the skeleton cannot be
// used.
func readSkeleton(r io.Reader, size int64, sk *skeleton) (m *Message, markers []int, out []byte, err error) {
	src := &hashingReader{r: r, h: sha256.New()}
	var buf bytes.Buffer
	br := bufio.NewReader(src)
	h, err := textproto.ReadHeader(br)
	ok := err == nil && sk.entity(&buf, h, br, 0) == nil && len(sk.sizes) > 0
	if ok {
		_, _ = io.Copy(io.Discard, br) // the rest (an epilogue) is hashed too; an error is in src.err
	}
	if src.err != nil {
		return nil, nil, nil, fmt.Errorf("%w: %w", ErrSource, src.err)
	}
	if !ok {
		return nil, nil, nil, nil
	}
	if src.n != size {
		return nil, nil, nil, fmt.Errorf("%w: %d of %d bytes", ErrSource, src.n, size)
	}
	out = buf.Bytes()
	m, err = Parse(bytes.NewReader(out), ParseOptions{MaxAttachment: int64(len(markerPrefix) + 20)})
	if err != nil {
		return nil, nil, nil, nil
	}
	found := 0
	markers = make([]int, len(m.Attachments))
	for i := range m.Attachments {
		a := &m.Attachments[i]
		markers[i] = -1
		if n, ok := markerIndex(a.Data); ok && n < len(sk.sizes) {
			a.Size = sk.sizes[n]
			markers[i] = n
			found++
		}
		a.Data, a.Truncated = nil, false
	}
	if found != len(sk.sizes) {
		return nil, nil, nil, nil // the parser read the skeleton differently
	}
	m.Hash = hex.EncodeToString(src.h.Sum(nil))
	return m, markers, out, nil
}

// hashingReader hashes and counts what is read through it, and keeps the
// first error other than io.EOF: the skeleton's readers stop at their
// first error, which must not pass for damaged mail.
type hashingReader struct {
	r   io.Reader
	h   hash.Hash
	n   int64
	err error
}

func (s *hashingReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.h.Write(p[:n])
	s.n += int64(n)
	if err != nil && err != io.EOF && s.err == nil {
		s.err = err
	}
	return n, err
}

const markerPrefix = "helpdeskd-skeleton-part-"

// markerIndex reads the number of the marker that stands for a large
// part: all of b, or (an attached message) its first line.
func markerIndex(b []byte) (int, bool) {
	s, ok := strings.CutPrefix(string(b), markerPrefix)
	if !ok {
		return 0, false
	}
	if i := strings.IndexByte(s, '\r'); i >= 0 && strings.HasPrefix(s[i:], "\r\n") {
		s = s[:i]
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// skeleton copies a message, leaving out the bodies of large attachments:
// each is replaced by a marker, and its decoded size recorded. The large
// attachment numbered capture (its marker), if any, is also decoded to
// to as it is read.
type skeleton struct {
	sizes   []int64
	capture int
	to      io.Writer
}

// capturing reports whether the next large part is the one to capture.
func (s *skeleton) capturing() bool { return s.to != nil && len(s.sizes) == s.capture }

var errSkeleton = errors.New("not a plain structure")

func (s *skeleton) entity(w *bytes.Buffer, h textproto.Header, body io.Reader, depth int) error {
	if depth > 20 {
		return errSkeleton
	}
	ct, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if h.Get("Content-Type") == "" {
		ct, err = "text/plain", nil
	}
	if err != nil {
		return errSkeleton
	}
	if strings.HasPrefix(ct, "multipart/") {
		boundary := params["boundary"]
		if boundary == "" {
			return errSkeleton
		}
		if err := textproto.WriteHeader(w, h); err != nil {
			return err
		}
		mr := textproto.NewMultipartReader(body, boundary)
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return errSkeleton
			}
			fmt.Fprintf(w, "--%s\r\n", boundary)
			if err := s.entity(w, p.Header, p, depth+1); err != nil {
				return err
			}
			w.WriteString("\r\n")
		}
		fmt.Fprintf(w, "--%s--\r\n", boundary)
		return nil
	}
	disp, dparams, _ := mime.ParseMediaType(h.Get("Content-Disposition"))
	name := dparams["filename"] + params["name"]
	textBody := (ct == "text/plain" || ct == "text/html") && disp != "attachment" && strings.TrimSpace(name) == ""
	head := make([]byte, skeletonPart+1)
	n, err := io.ReadFull(body, head)
	attached := (ct == "message/rfc822" || ct == "message/global") && identityCTE(h.Get("Content-Transfer-Encoding"))
	if err == io.EOF || err == io.ErrUnexpectedEOF || textBody || (strings.HasPrefix(ct, "message/") && !attached) {
		// Small, or read by the parser: copied as it is.
		if err := textproto.WriteHeader(w, h); err != nil {
			return err
		}
		w.Write(head[:n])
		_, err := io.Copy(w, body)
		return err
	}
	if err != nil {
		return err
	}
	part := io.MultiReader(bytes.NewReader(head[:n]), body)
	if attached {
		if s.capturing() {
			part = io.TeeReader(part, s.to) // an attached message is its own bytes
		}
		return s.attachedMessage(w, h, part, depth)
	}
	var size int64
	if s.capturing() {
		size, err = decodeTo(s.to, h.Get("Content-Transfer-Encoding"), part)
	} else {
		size, err = decodedSize(h.Get("Content-Transfer-Encoding"), part)
	}
	if err != nil {
		return errSkeleton
	}
	h.Set("Content-Transfer-Encoding", "7bit")
	if err := textproto.WriteHeader(w, h); err != nil {
		return err
	}
	fmt.Fprintf(w, "%s%d", markerPrefix, len(s.sizes))
	s.sizes = append(s.sizes, size)
	return nil
}

// attachedMessage writes the skeleton of a large attached message (RFC
// 2046 5.2.1, RFC 6532 3.7), which the parser takes as one attachment of
// its full size and does not walk: its marker, then the message's own
// skeleton, whose header and text carry the charsets the parser's
// detection looks for anywhere in the mail, and whose large parts are
// left out uncounted.
func (s *skeleton) attachedMessage(w *bytes.Buffer, h textproto.Header, body io.Reader, depth int) error {
	if err := textproto.WriteHeader(w, h); err != nil {
		return err
	}
	fmt.Fprintf(w, "%s%d\r\n", markerPrefix, len(s.sizes))
	i := len(s.sizes)
	s.sizes = append(s.sizes, 0)
	cr := &countingReader{r: body}
	br := bufio.NewReader(cr)
	ih, err := textproto.ReadHeader(br)
	if err != nil {
		return errSkeleton
	}
	if err := textproto.WriteHeader(w, ih); err != nil {
		return err
	}
	inner := skeleton{capture: -1} // its markers are no attachments of this mail
	if err := inner.entity(w, ih, br, depth+1); err != nil {
		return err
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return err
	}
	s.sizes[i] = cr.n
	return nil
}

// identityCTE reports a transfer encoding that leaves the bytes as they
// are (RFC 2045 6.2).
func identityCTE(cte string) bool {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "", "7bit", "8bit", "binary":
		return true
	}
	return false
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// decodedSize counts the bytes of a body after its transfer encoding is
// undone (RFC 2045 6), without keeping them.
func decodedSize(cte string, r io.Reader) (int64, error) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return base64Size(r)
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "", "7bit", "8bit", "binary":
	default:
		return 0, errSkeleton
	}
	return io.Copy(io.Discard, r)
}

// decodeTo writes a body with its transfer encoding undone to w and
// returns how many bytes that was. It accepts what decodedSize accepts:
// base64 with white space anywhere, quoted-printable, an identity
// encoding.
func decodeTo(w io.Writer, cte string, r io.Reader) (int64, error) {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, &spaceless{r: r})
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "", "7bit", "8bit", "binary":
	default:
		return 0, errSkeleton
	}
	return io.Copy(w, r)
}

// spaceless reads r without the white space base64 text may hold (the
// standard decoder skips only line ends).
type spaceless struct{ r io.Reader }

func (s *spaceless) Read(p []byte) (int, error) {
	for {
		n, err := s.r.Read(p)
		k := 0
		for _, c := range p[:n] {
			if b64Class[c] != b64Space {
				p[k] = c
				k++
			}
		}
		if k > 0 || err != nil {
			return k, err
		}
	}
}

// base64Size counts the bytes base64 text decodes to (RFC 2045 6.8)
// without decoding it: four characters are three bytes, less one for each
// "=" of padding. Line breaks and white space are skipped; text the
// decoder would refuse (a byte outside the alphabet, data after the
// padding, a last group cut short) is errSkeleton, left to the parser.
func base64Size(r io.Reader) (int64, error) {
	var buf [32 << 10]byte
	var n, pad int64
	for {
		k, err := r.Read(buf[:])
		p := buf[:k]
		for len(p) > 0 {
			// Runs of the alphabet are most of the text.
			i := 0
			for i < len(p) && b64Class[p[i]] == b64Alphabet {
				i++
			}
			if i > 0 && pad > 0 {
				return 0, errSkeleton
			}
			n += int64(i)
			if i == len(p) {
				break
			}
			c := p[i]
			p = p[i+1:]
			switch b64Class[c] {
			case b64Space:
			case b64Pad:
				pad++
			default:
				return 0, errSkeleton
			}
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return 0, err
		}
	}
	if pad > 2 || (n+pad)%4 != 0 {
		return 0, errSkeleton
	}
	return (n+pad)/4*3 - pad, nil
}

// The classes of bytes in base64 text, for base64Size: a table instead of
// a chain of comparisons, as every byte of every attachment passes it.
const (
	b64Bad = iota
	b64Space
	b64Pad
	b64Alphabet
)

var b64Class = func() (t [256]uint8) {
	for _, c := range []byte("\r\n \t") {
		t[c] = b64Space
	}
	t['='] = b64Pad
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") {
		t[c] = b64Alphabet
	}
	return t
}()

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
	j := findAttachment(m.Attachments, i, name, size)
	if j < 0 {
		return Attachment{}, errNoAttachment(i, name, size)
	}
	return m.Attachments[j], nil
}

// findAttachment returns the index of attachment i in list if its name
// and size match, else of the first that matches, else -1.
func findAttachment(list []Attachment, i int, name string, size int64) int {
	match := func(a Attachment) bool { return a.Filename == name && a.Size == size }
	if i >= 0 && i < len(list) && match(list[i]) {
		return i
	}
	for j, a := range list {
		if match(a) {
			return j
		}
	}
	return -1
}

func errNoAttachment(i int, name string, size int64) error {
	return fmt.Errorf("attachment %d (%q, %d bytes) not found in the stored message", i, name, size)
}

// ExtractAttachment writes to w the bytes AttachmentData returns for the
// same attachment of the size bytes of r, without holding the message or
// the attachment: a message of a plain structure is read twice, once for
// its skeleton (which attachment is which) and once decoding that
// attachment to w, up to opts.MaxAttachment bytes. Any other message (a
// small one, parsed whole when it was stored; one the skeleton cannot be
// sure of; one whose skeleton does not show the attachment) is read
// whole, as AttachmentData does, up to MaxWhole (ErrTooLarge above it).
// Errors reading r wrap ErrSource.
func ExtractAttachment(w io.Writer, r io.ReaderAt, size int64, i int, name string, asize int64, opts ParseOptions) error {
	limit := opts.MaxAttachment
	if limit == 0 {
		limit = defaultMaxAttachment
	}
	keep := min(asize, max(limit, 0))
	var m *Message
	var markers []int
	var skel []byte
	if size >= skeletonFrom {
		// As ParseMeta: a small message was parsed whole when it was
		// stored, and its sizes are the whole parser's.
		var err error
		if m, markers, skel, err = readSkeleton(io.NewSectionReader(r, 0, size), size, &skeleton{capture: -1}); err != nil {
			return err
		}
	}
	j := -1
	if m != nil {
		j = findAttachment(m.Attachments, i, name, asize)
	}
	if j < 0 {
		if size > MaxWhole {
			return fmt.Errorf("%w: %d MiB of a structure read whole (limit %d MiB)", ErrTooLarge, size>>20, MaxWhole>>20)
		}
		raw := make([]byte, size)
		if n, err := r.ReadAt(raw, 0); n < len(raw) {
			return fmt.Errorf("%w: %d of %d bytes: %v", ErrSource, n, size, err)
		}
		a, err := AttachmentData(raw, i, name, asize, opts)
		if err == nil {
			_, err = w.Write(a.Data)
		}
		return err
	}
	if markers[j] < 0 {
		// A small attachment, copied whole into the skeleton.
		sm, err := Parse(bytes.NewReader(skel), opts)
		if err != nil || len(sm.Attachments) != len(m.Attachments) {
			return fmt.Errorf("parse the skeleton again: %v", err)
		}
		_, err = w.Write(sm.Attachments[j].Data)
		return err
	}
	lw := &limitedWriter{w: w, n: keep}
	if _, _, _, err := readSkeleton(io.NewSectionReader(r, 0, size), size, &skeleton{capture: markers[j], to: lw}); err != nil {
		return err
	}
	if lw.err != nil {
		return lw.err
	}
	if lw.seen != asize {
		return fmt.Errorf("attachment %d (%q): %d bytes decoded, %d recorded", i, name, lw.seen, asize)
	}
	return nil
}

// limitedWriter writes the first n bytes to w and counts the rest.
type limitedWriter struct {
	w    io.Writer
	n    int64
	seen int64
	err  error
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	l.seen += int64(len(p))
	if k := min(int64(len(p)), l.n); k > 0 && l.err == nil {
		_, l.err = l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}
