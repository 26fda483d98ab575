package mailin

import (
	"unicode/utf16"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/text/encoding"
	"golang.org/x/text/transform"
)

// UTF-7 (RFC 2152), which x/text does not provide. Some old clients still
// send text/plain; charset=utf-7.

func init() {
	for _, name := range []string{"utf-7", "utf7", "x-utf-7", "unicode-1-1-utf-7", "csunicode11utf7"} {
		charset.RegisterEncoding(name, utf7Encoding{})
	}
}

// utf7Encoding implements encoding.Encoding for RFC 2152 UTF-7.
type utf7Encoding struct{}

var _ encoding.Encoding = utf7Encoding{}

func (utf7Encoding) NewDecoder() *encoding.Decoder {
	return &encoding.Decoder{Transformer: &utf7Decoder{}}
}

func (utf7Encoding) NewEncoder() *encoding.Encoder {
	return &encoding.Encoder{Transformer: &utf7Encoder{}}
}

func (utf7Encoding) String() string { return "UTF-7" }

// utf7B64 is the RFC 2152 modified-base64 alphabet (RFC 2045 without '=').
const utf7B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

var utf7B64Val = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(utf7B64); i++ {
		t[utf7B64[i]] = int8(i)
	}
	return t
}()

// utf7Decoder decodes UTF-7. Bytes that cannot appear in UTF-7 (8-bit) and
// broken surrogate pairs become U+FFFD; it never fails.
type utf7Decoder struct {
	shifted bool   // inside a "+...-" base64 run
	bits    uint32 // pending bits, the low nbits of them
	nbits   uint
	high    rune // pending high surrogate, or 0
}

func (d *utf7Decoder) Reset() { *d = utf7Decoder{} }

// utf7MaxOut is the most one input byte can produce: U+FFFD for a dropped
// high surrogate plus one 4-byte rune.
const utf7MaxOut = 3 + 4

func (d *utf7Decoder) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	for nSrc < len(src) {
		if len(dst)-nDst < utf7MaxOut {
			return nDst, nSrc, transform.ErrShortDst
		}
		c := src[nSrc]
		if d.shifted {
			if v := utf7B64Val[c]; v >= 0 {
				d.bits = d.bits<<6 | uint32(v)
				d.nbits += 6
				nSrc++
				if d.nbits >= 16 {
					d.nbits -= 16
					unit := rune(d.bits>>d.nbits) & 0xFFFF
					d.bits &= 1<<d.nbits - 1
					nDst += d.unit(dst[nDst:], unit)
				}
				continue
			}
			// End of the base64 run; a '-' is absorbed, anything else is
			// read again as a direct character.
			nDst += d.endShift(dst[nDst:])
			if c == '-' {
				nSrc++
			}
			continue
		}
		switch {
		case c == '+':
			if nSrc+1 >= len(src) && !atEOF {
				return nDst, nSrc, transform.ErrShortSrc
			}
			if nSrc+1 < len(src) && src[nSrc+1] == '-' {
				dst[nDst] = '+'
				nDst++
				nSrc += 2
				continue
			}
			d.shifted = true
			nSrc++
		case c < utf8.RuneSelf:
			dst[nDst] = c
			nDst++
			nSrc++
		default:
			nDst += utf8.EncodeRune(dst[nDst:], utf8.RuneError)
			nSrc++
		}
	}
	if atEOF && d.shifted {
		if len(dst)-nDst < utf7MaxOut {
			return nDst, nSrc, transform.ErrShortDst
		}
		nDst += d.endShift(dst[nDst:])
	}
	return nDst, nSrc, nil
}

// unit writes one UTF-16 code unit, pairing surrogates.
func (d *utf7Decoder) unit(dst []byte, u rune) int {
	n := 0
	switch {
	case utf16.IsSurrogate(u) && u < 0xDC00: // high surrogate
		if d.high != 0 {
			n += utf8.EncodeRune(dst, utf8.RuneError)
		}
		d.high = u
		return n
	case utf16.IsSurrogate(u): // low surrogate
		if d.high == 0 {
			return utf8.EncodeRune(dst, utf8.RuneError)
		}
		r := utf16.DecodeRune(d.high, u)
		d.high = 0
		return utf8.EncodeRune(dst, r)
	}
	if d.high != 0 {
		n += utf8.EncodeRune(dst, utf8.RuneError)
		d.high = 0
	}
	return n + utf8.EncodeRune(dst[n:], u)
}

// endShift leaves base64 mode; leftover bits (at most 14, zero in
// well-formed input) are dropped, a lone high surrogate becomes U+FFFD.
func (d *utf7Decoder) endShift(dst []byte) int {
	n := 0
	if d.high != 0 {
		n = utf8.EncodeRune(dst, utf8.RuneError)
	}
	d.shifted, d.bits, d.nbits, d.high = false, 0, 0, 0
	return n
}

// utf7Encoder encodes UTF-8 as UTF-7: RFC 2152 set D and white space
// directly, '+' as "+-", everything else in base64 runs that always end
// with '-'.
type utf7Encoder struct {
	shifted bool
	bits    uint32
	nbits   uint
}

func (e *utf7Encoder) Reset() { *e = utf7Encoder{} }

func utf7Direct(r rune) bool {
	switch {
	case 'A' <= r && r <= 'Z', 'a' <= r && r <= 'z', '0' <= r && r <= '9':
		return true
	}
	switch r {
	case '\'', '(', ')', ',', '-', '.', '/', ':', '?', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

// utf7EncMaxOut bounds the output for one rune: flush (3) + two units in
// base64 (6) + '+' or '-'.
const utf7EncMaxOut = 12

func (e *utf7Encoder) Transform(dst, src []byte, atEOF bool) (nDst, nSrc int, err error) {
	for nSrc < len(src) {
		if len(dst)-nDst < utf7EncMaxOut {
			return nDst, nSrc, transform.ErrShortDst
		}
		if !utf8.FullRune(src[nSrc:]) && !atEOF {
			return nDst, nSrc, transform.ErrShortSrc
		}
		r, size := utf8.DecodeRune(src[nSrc:])
		nSrc += size
		if utf7Direct(r) || r == '+' {
			if e.shifted {
				nDst += e.flush(dst[nDst:])
			}
			dst[nDst] = byte(r)
			nDst++
			if r == '+' {
				dst[nDst] = '-'
				nDst++
			}
			continue
		}
		if !e.shifted {
			dst[nDst] = '+'
			nDst++
			e.shifted = true
		}
		r1, r2 := utf16.EncodeRune(r)
		units := []rune{r}
		if r1 != utf8.RuneError {
			units = []rune{r1, r2}
		}
		for _, u := range units {
			e.bits = e.bits<<16 | uint32(u&0xFFFF)
			e.nbits += 16
			for e.nbits >= 6 {
				e.nbits -= 6
				dst[nDst] = utf7B64[(e.bits>>e.nbits)&0x3F]
				nDst++
			}
			e.bits &= 1<<e.nbits - 1
		}
	}
	if atEOF && e.shifted {
		if len(dst)-nDst < utf7EncMaxOut {
			return nDst, nSrc, transform.ErrShortDst
		}
		nDst += e.flush(dst[nDst:])
	}
	return nDst, nSrc, nil
}

// flush writes the pending bits and the closing '-'.
func (e *utf7Encoder) flush(dst []byte) int {
	n := 0
	if e.nbits > 0 {
		dst[n] = utf7B64[(e.bits<<(6-e.nbits))&0x3F]
		n++
	}
	dst[n] = '-'
	n++
	e.shifted, e.bits, e.nbits = false, 0, 0
	return n
}
