package mailin

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// base64Only (the reference for base64Size) passes on base64 text, dropping the line breaks and white
// space that mail puts in it; any other byte is an error, so that a body
// the parser would read leniently is left to the parser.
type base64Only struct{ r io.Reader }

func (b *base64Only) Read(p []byte) (int, error) {
	for {
		n, err := b.r.Read(p)
		k := 0
		for _, c := range p[:n] {
			switch {
			case c == '\r' || c == '\n' || c == ' ' || c == '\t':
			case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '+', c == '/', c == '=':
				p[k] = c
				k++
			default:
				return 0, errSkeleton
			}
		}
		if k > 0 || err != nil {
			return k, err
		}
	}
}

// decodedByDecoder is what base64Size must give: the size the standard
// decoder decodes, or errSkeleton where it refuses the text.
func decodedByDecoder(s string) (int64, error) {
	n, err := io.Copy(io.Discard, base64.NewDecoder(base64.StdEncoding, &base64Only{r: strings.NewReader(s)}))
	if err != nil {
		return 0, errSkeleton
	}
	return n, nil
}

// base64Size counts what the decoder would decode, and refuses what it
// would refuse, without decoding.
func TestBase64Size(t *testing.T) {
	cases := []string{"", "YQ==", "YWI=", "YWJj", "YWJjZA==", "YQ=", "YQ", "Y===", "====", "YWJj=", "YQ==YQ==",
		"YW\r\nJj\r\n", " YWJj\tZGVm ", "YWJj*ZGVm", "YWJjZGVmZ2g=\r\n", "YQ==\r\n", "YQ=\r\n=", "YWJjZA=="}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		data := make([]byte, rng.IntN(200))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		enc := base64.StdEncoding.EncodeToString(data)
		var b bytes.Buffer
		for i := 0; i < len(enc); i += 76 {
			b.WriteString(enc[i:min(i+76, len(enc))] + "\r\n")
		}
		s := b.String()
		if rng.IntN(4) == 0 && len(s) > 0 {
			// Damage it: cut it, or put a stray byte in.
			switch rng.IntN(3) {
			case 0:
				s = s[:rng.IntN(len(s))]
			case 1:
				i := rng.IntN(len(s))
				s = s[:i] + string("=-A!"[rng.IntN(4)]) + s[i:]
			case 2:
				s += enc[:min(len(enc), 4)]
			}
		}
		cases = append(cases, s)
	}
	for _, s := range cases {
		want, werr := decodedByDecoder(s)
		got, err := base64Size(strings.NewReader(s))
		if (err != nil) != (werr != nil) || got != want {
			t.Fatalf("base64Size(%q) = %d, %v; the decoder: %d, %v", s, got, err, want, werr)
		}
		if err != nil && !errors.Is(err, errSkeleton) {
			t.Fatalf("base64Size(%q): %v, want errSkeleton", s, err)
		}
	}
}
