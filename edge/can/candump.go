package can

import (
	"bytes"
	"fmt"
	"time"
)

// Identifier limits and the flag bit that candump prints for error frames
// (CAN_ERR_FLAG in linux/can.h).
const (
	maxStandardID = 0x7FF      // 11 bits
	maxExtendedID = 0x1FFFFFFF // 29 bits
	errFrameFlag  = 0x20000000
)

// ParseLine decodes one line of candump output into f. It understands the
// three forms candump writes for classic CAN frames:
//
//	(1600000000.123456) can0 7E8#03410D32                 log format (-l, -L)
//	  can0  7E8   [4]  03 41 0D 32                        screen format (default)
//	 (1600000000.123456)  can0  7E8   [4]  03 41 0D 32    screen format with -ta
//
// Identifiers have 3 hex digits (11-bit) or 8 (29-bit, Extended); hex may
// be upper or lower case. Remote requests are written "7DF#R" (optionally
// with the requested length, "7DF#R4") or "[4]  remote request"; the
// requested length is not kept, so an RTR frame has Len 0. Data may be
// empty. The timestamp, when there is one, is seconds since the Unix epoch
// and sets f.Time (in UTC); without one f.Time is zero. Surrounding spaces
// and a trailing CR or LF are ignored, as are the byte separators '.' and
// the raw-DLC suffix "_9"…"_F" of the log format, the direction "R"/"T"
// some tools write after a logged frame, candump's ASCII column (-a) and
// its RX/TX columns (-x).
//
// CAN FD ("##" in the log format, a two-digit length "[12]" on screen), CAN
// XL and error frames, and DROPCOUNT notices are recognised and reported
// as ErrUnsupported; anything else is ErrMalformed, with a message that
// names the problem. On error f is zeroed.
//
// ParseLine does not allocate unless it returns an error, does not keep
// line, and does not panic on any input.
func ParseLine(line []byte, f *Frame) error {
	_, err := parseLine(line, f)
	return err
}

// parseLine is ParseLine that also returns the interface name: a
// sub-slice of line, or nil when the line is too broken to tell.
func parseLine(line []byte, f *Frame) (iface []byte, err error) {
	*f = Frame{}
	iface, err = decodeLine(line, f)
	if err != nil {
		*f = Frame{}
	}
	return iface, err
}

func decodeLine(line []byte, f *Frame) (iface []byte, err error) {
	s := trimSpace(line)
	if len(s) == 0 {
		return nil, malformed("empty line")
	}
	if bytes.HasPrefix(s, []byte("DROPCOUNT")) {
		return nil, unsupported("candump DROPCOUNT notice")
	}
	if s[0] == '(' {
		end := bytes.IndexByte(s, ')')
		if end < 0 {
			return nil, malformed("timestamp %q has no closing parenthesis", clip(s))
		}
		if f.Time, err = parseTimestamp(s[1:end]); err != nil {
			return nil, err
		}
		s = trimSpace(s[end+1:])
	}
	iface, s = cutField(s)
	if len(iface) == 0 {
		return nil, malformed("no interface name")
	}
	if bytes.IndexByte(iface, '#') >= 0 {
		return nil, malformed("no interface name before frame %q", clip(iface))
	}
	frame, after := cutField(s)
	if len(frame) == 0 {
		return iface, malformed("no frame after interface %q", clip(iface))
	}
	if bytes.IndexByte(frame, '#') < 0 {
		return iface, parseScreen(s, f)
	}
	if err := parseCompact(frame, f); err != nil {
		return iface, err
	}
	if len(after) > 0 && !(len(after) == 1 && (after[0] == 'R' || after[0] == 'T')) {
		return iface, malformed("unexpected %q after frame", clip(after))
	}
	return iface, nil
}

// parseTimestamp decodes the "seconds.fraction" of a candump timestamp.
func parseTimestamp(b []byte) (time.Time, error) {
	secs, frac, dot := bytes.Cut(b, []byte("."))
	// 12 digits reach the year 33658; more would overflow the nanoseconds.
	if len(secs) == 0 || len(secs) > 12 || (dot && (len(frac) == 0 || len(frac) > 9)) {
		return time.Time{}, malformed("timestamp %q is not seconds.fraction", clip(b))
	}
	sec, ok := parseDecimal(secs)
	if !ok {
		return time.Time{}, malformed("timestamp %q is not seconds.fraction", clip(b))
	}
	nsec, ok := parseDecimal(frac)
	if !ok {
		return time.Time{}, malformed("timestamp %q is not seconds.fraction", clip(b))
	}
	for range 9 - len(frac) {
		nsec *= 10
	}
	return time.Unix(sec, nsec).UTC(), nil
}

// parseCompact decodes the log format's "ID#DATA".
func parseCompact(tok []byte, f *Frame) error {
	idText, rest, _ := bytes.Cut(tok, []byte("#"))
	if len(idText) == 5 && isCANXL(rest) {
		return unsupported("CAN XL frame %q", clip(tok))
	}
	if err := parseID(idText, f); err != nil {
		return err
	}
	switch {
	case len(rest) > 0 && rest[0] == '#':
		return checkFD(tok, rest[1:])
	case len(rest) > 0 && (rest[0] == 'R' || rest[0] == 'r'):
		return parseRemote(tok, rest[1:], f)
	}
	n, err := parseData(rest, &f.Data)
	if err != nil {
		return err
	}
	f.Len = uint8(n)
	return nil
}

// parseID decodes a 3-digit (11-bit) or 8-digit (29-bit) identifier.
func parseID(b []byte, f *Frame) error {
	id, ok := parseHex(b)
	switch {
	case len(b) != 3 && len(b) != 8:
		return malformed("identifier %q has neither 3 (11-bit) nor 8 (29-bit) hex digits", clip(b))
	case !ok:
		return malformed("identifier %q is not hex", b)
	case len(b) == 3 && id > maxStandardID:
		return malformed("11-bit identifier %s is above 7FF", b)
	case len(b) == 8 && id&errFrameFlag != 0:
		return unsupported("error frame %s", b)
	case len(b) == 8 && id > maxExtendedID:
		return malformed("29-bit identifier %s is above 1FFFFFFF", b)
	}
	f.ID, f.Extended = id, len(b) == 8
	return nil
}

// isCANXL reports whether rest, after a 5-digit priority and '#', is a CAN
// XL header "FF:SS:AAAAAAAA#".
func isCANXL(rest []byte) bool {
	return len(rest) >= 15 && rest[2] == ':' && rest[5] == ':' && rest[14] == '#'
}

// checkFD checks the flags digit and data of a CAN FD frame ("ID##FDATA")
// and reports it as unsupported, or as malformed if it is not valid.
func checkFD(tok, rest []byte) error {
	if len(rest) == 0 || unhex(rest[0]) > 0xF {
		return malformed("CAN FD frame %q has no flags digit", clip(tok))
	}
	var data [64]byte
	if _, err := parseHexBytes(rest[1:], data[:]); err != nil {
		return err
	}
	return unsupported("CAN FD frame %q", clip(tok))
}

// parseRemote checks what follows the 'R' of a remote request: nothing, or
// the requested length 0…8, and after an 8 optionally a raw DLC "_9"…"_F".
func parseRemote(tok, rest []byte, f *Frame) error {
	ok := len(rest) == 0 ||
		(len(rest) == 1 && rest[0] >= '0' && rest[0] <= '8') ||
		(len(rest) == 3 && rest[0] == '8' && rest[1] == '_' && isRawDLC(rest[2]))
	if !ok {
		return malformed("remote request %q: expected R, R0…R8 or R8_9…R8_F", clip(tok))
	}
	f.RTR = true
	return nil
}

// parseData decodes up to 8 data bytes written as hex pairs, optionally
// separated by '.', and an optional raw DLC suffix "_9"…"_F" after 8 bytes.
func parseData(b []byte, dst *[8]byte) (int, error) {
	if i := bytes.IndexByte(b, '_'); i >= 0 {
		suffix := b[i:]
		b = b[:i]
		n, err := parseHexBytes(b, dst[:])
		if err != nil {
			return 0, err
		}
		if n != 8 || len(suffix) != 2 || !isRawDLC(suffix[1]) {
			return 0, malformed("raw DLC %q: expected _9…_F after 8 data bytes", clip(suffix))
		}
		return n, nil
	}
	return parseHexBytes(b, dst[:])
}

// parseHexBytes decodes hex pairs, optionally separated by '.', into dst
// and returns how many bytes it wrote.
func parseHexBytes(b, dst []byte) (int, error) {
	n := 0
	for i := 0; i < len(b); {
		if b[i] == '.' {
			i++
			continue
		}
		if i+1 >= len(b) || b[i+1] == '.' {
			return 0, malformed("data %q has an odd number of hex digits", clip(b))
		}
		hi, lo := unhex(b[i]), unhex(b[i+1])
		if hi > 0xF || lo > 0xF {
			return 0, malformed("data %q is not hex", clip(b))
		}
		if n == len(dst) {
			return 0, malformed("data %q is longer than %d bytes", clip(b), len(dst))
		}
		dst[n] = hi<<4 | lo
		n++
		i += 2
	}
	return n, nil
}

// parseScreen decodes candump's screen format after the interface name:
// "7E8   [4]  03 41 0D 32", possibly preceded by -x's "RX - -" and
// followed by -a's ASCII column.
func parseScreen(s []byte, f *Frame) error {
	tok, s := cutField(s)
	if string(tok) == "RX" || string(tok) == "TX" {
		for range 2 { // BRS and ESI: "B" or "-", "E" or "-"
			var flag []byte
			if flag, s = cutField(s); len(flag) != 1 {
				return malformed("extra message info %q: expected RX|TX, then two one-letter flags", clip(tok))
			}
		}
		tok, s = cutField(s)
	}
	if err := parseID(tok, f); err != nil {
		return err
	}
	lenTok, s := cutField(s)
	n, err := parseLength(lenTok)
	if err != nil {
		return err
	}
	if bytes.HasPrefix(s, []byte("remote request")) && len(trimSpace(s[len("remote request"):])) == 0 {
		f.RTR = true
		return nil
	}
	for i := range n {
		var b []byte
		b, s = cutField(s)
		if len(b) != 2 {
			return malformed("expected %d data bytes, got %d", n, i)
		}
		hi, lo := unhex(b[0]), unhex(b[1])
		if hi > 0xF || lo > 0xF {
			return malformed("data byte %q is not hex", b)
		}
		f.Data[i] = hi<<4 | lo
	}
	f.Len = uint8(n)
	// What may follow the data is the ASCII column, which starts with a
	// quote and may hold any character.
	if len(s) > 0 && s[0] != '\'' {
		return malformed("unexpected %q after %d data bytes", clip(s), n)
	}
	return nil
}

// parseLength decodes the screen format's length column: "[0]"…"[8]", or
// with -8 the raw DLC "{0}"…"{F}". "[12]" (CAN FD) and "[0012]" (CAN XL)
// are unsupported.
func parseLength(b []byte) (int, error) {
	switch {
	case len(b) == 3 && b[0] == '[' && b[2] == ']' && b[1] >= '0' && b[1] <= '8':
		return int(b[1] - '0'), nil
	case len(b) == 3 && b[0] == '{' && b[2] == '}' && unhex(b[1]) <= 0xF:
		return min(int(unhex(b[1])), 8), nil
	case (len(b) == 4 || len(b) == 6) && b[0] == '[' && b[len(b)-1] == ']' && isDecimal(b[1:len(b)-1]):
		if len(b) == 4 {
			return 0, unsupported("CAN FD frame of length %s", b)
		}
		return 0, unsupported("CAN XL frame of length %s", b)
	}
	return 0, malformed("length %q: expected [0]…[8]", clip(b))
}

// isRawDLC reports whether c is a DLC digit above 8, which classic CAN
// allows for 8-byte frames.
func isRawDLC(c byte) bool {
	d := unhex(c)
	return d > 8 && d <= 0xF
}

// unhex returns the value of the hex digit c, or 0xFF if c is none.
func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	}
	return 0xFF
}

// parseHex decodes up to 8 hex digits.
func parseHex(b []byte) (uint32, bool) {
	if len(b) == 0 || len(b) > 8 {
		return 0, false
	}
	var v uint32
	for _, c := range b {
		d := unhex(c)
		if d > 0xF {
			return 0, false
		}
		v = v<<4 | uint32(d)
	}
	return v, true
}

// parseDecimal decodes up to 18 decimal digits; the empty string is 0.
func parseDecimal(b []byte) (int64, bool) {
	if len(b) > 18 || !isDecimal(b) {
		return 0, false
	}
	var v int64
	for _, c := range b {
		v = v*10 + int64(c-'0')
	}
	return v, true
}

func isDecimal(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func trimSpace(b []byte) []byte {
	for len(b) > 0 && isSpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isSpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

// cutField returns the text up to the first space and the rest, both
// trimmed of surrounding spaces.
func cutField(b []byte) (field, rest []byte) {
	b = trimSpace(b)
	i := 0
	for i < len(b) && !isSpace(b[i]) {
		i++
	}
	return b[:i], trimSpace(b[i:])
}

// clip shortens input quoted in an error message.
func clip(b []byte) []byte {
	const maxQuoted = 32
	if len(b) > maxQuoted {
		return b[:maxQuoted]
	}
	return b
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}

func unsupported(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrUnsupported, fmt.Sprintf(format, args...))
}
