package feed

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
)

// cursorVersion is the first byte of an encoded cursor.
const cursorVersion = 1

// cursorLen is an encoded cursor's length in bytes before base64: the
// version and the stream sequence, big-endian.
const cursorLen = 1 + 8

var cursorEncoding = base64.RawURLEncoding.Strict()

// Cursor is a position in the EVENTS stream: the stream sequence of the
// last event a client has seen (0: before the first). A read from it
// returns the events after it.
type Cursor uint64

// String encodes c opaquely: base64url (no padding) of a version byte and
// the sequence. Every cursor has exactly one encoding.
func (c Cursor) String() string {
	var b [cursorLen]byte
	b[0] = cursorVersion
	binary.BigEndian.PutUint64(b[1:], uint64(c))
	return cursorEncoding.EncodeToString(b[:])
}

// ParseCursor decodes what String encoded; anything else is ErrBadCursor.
func ParseCursor(s string) (Cursor, error) {
	if len(s) != cursorEncoding.EncodedLen(cursorLen) {
		return 0, fmt.Errorf("%w: %d characters, want %d", ErrBadCursor, len(s), cursorEncoding.EncodedLen(cursorLen))
	}
	b, err := cursorEncoding.DecodeString(s)
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrBadCursor, err)
	}
	if len(b) != cursorLen || b[0] != cursorVersion {
		return 0, fmt.Errorf("%w: unknown version %d", ErrBadCursor, b[0])
	}
	return Cursor(binary.BigEndian.Uint64(b[1:])), nil
}
