package event

import (
	"fmt"
	"strconv"
	"strings"
)

// KeyToken makes any name (a fence id, an account or vehicle in a bucket
// key) a single key token: letters, digits, '-' and '_' stay, every other
// byte becomes =XX (hex). FromKeyToken reverses it.
func KeyToken(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "=%02X", c)
	}
	return b.String()
}

// FromKeyToken reverses KeyToken; a malformed escape is kept as is.
func FromKeyToken(k string) string {
	var b strings.Builder
	for i := 0; i < len(k); i++ {
		if k[i] == '=' && i+2 < len(k) {
			if c, err := strconv.ParseUint(k[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(c))
				i += 2
				continue
			}
		}
		b.WriteByte(k[i])
	}
	return b.String()
}
