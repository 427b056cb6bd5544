package payload

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

// Format is the encoding of a webhook body: a subscription's "format".
type Format string

// The formats. The zero value renders as FormatJSON.
const (
	FormatJSON Format = "json"
	FormatForm Format = "form"
)

// Shape is how much of the envelope a webhook body carries: a
// subscription's "payload".
type Shape string

// The shapes. The zero value renders as ShapeFull.
const (
	ShapeFull    Shape = "full"
	ShapeMinimal Shape = "minimal"
)

// Content types of the formats.
const (
	ContentTypeJSON = "application/json"
	ContentTypeForm = "application/x-www-form-urlencoded"
)

// Limits of a form body. Real envelopes are about a kilobyte and three
// levels deep, and their form is less than twice as long; the limits only
// stop an envelope built to blow up when flattened (every leaf repeats the
// keys above it, so a long key over a long array grows quadratically).
const (
	// MaxFormBytes bounds a rendered form body: 1 MiB, or FormGrowth times
	// the envelope if that is more, so the bound stays linear.
	MaxFormBytes = 1 << 20
	// FormGrowth is how many times longer than its envelope a form body
	// may be when that exceeds MaxFormBytes.
	FormGrowth = 8
	// MaxDepth bounds the nesting of objects and arrays in a form body.
	MaxDepth = 32
)

var (
	// ErrNotEnvelope is wrapped by the error of Render when the envelope is
	// not a JSON object.
	ErrNotEnvelope = errors.New("payload: envelope is not a JSON object")
	// ErrFormat is wrapped by the error of an unknown format.
	ErrFormat = errors.New("payload: unknown format")
	// ErrShape is wrapped by the error of an unknown shape.
	ErrShape = errors.New("payload: unknown shape")
	// ErrTooLarge is wrapped by the error of Render when a form body would
	// exceed its size bound (MaxFormBytes, FormGrowth) or MaxDepth.
	ErrTooLarge = errors.New("payload: envelope too large for a form body")
)

// Valid reports whether f is one of the named formats.
func (f Format) Valid() bool { return f == FormatJSON || f == FormatForm }

// ContentType is the Content-Type of a body in format f ("" if f is
// unknown); the zero value is JSON.
func (f Format) ContentType() string {
	switch f {
	case FormatJSON, "":
		return ContentTypeJSON
	case FormatForm:
		return ContentTypeForm
	}
	return ""
}

// ParseFormat reads a format name; "" is FormatJSON, the default.
func ParseFormat(s string) (Format, error) {
	if s == "" {
		return FormatJSON, nil
	}
	if f := Format(s); f.Valid() {
		return f, nil
	}
	return "", fmt.Errorf("%w %q (allowed: json, form)", ErrFormat, s)
}

// UnmarshalText is ParseFormat, for configuration and JSON decoding.
func (f *Format) UnmarshalText(b []byte) error {
	v, err := ParseFormat(string(b))
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// Valid reports whether s is one of the named shapes.
func (s Shape) Valid() bool { return s == ShapeFull || s == ShapeMinimal }

// ParseShape reads a shape name; "" is ShapeFull, the default.
func ParseShape(s string) (Shape, error) {
	if s == "" {
		return ShapeFull, nil
	}
	if v := Shape(s); v.Valid() {
		return v, nil
	}
	return "", fmt.Errorf("%w %q (allowed: full, minimal)", ErrShape, s)
}

// UnmarshalText is ParseShape, for configuration and JSON decoding.
func (s *Shape) UnmarshalText(b []byte) error {
	v, err := ParseShape(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Render turns a JSON event envelope, as stored in the EVENTS stream, into
// the body of a webhook in format f and shape s, with its Content-Type. The
// zero Format and Shape are JSON and full, so a subscription that predates
// them gets what it always got.
//
// FormatJSON with ShapeFull returns the envelope itself (the same slice,
// unchanged: the caller must not modify it while the body is in use).
// ShapeMinimal keeps id, type, schemaVersion, occurredAt, account,
// vehicle.id, seq, corrects and location.lat/lon, in that order (see the package
// documentation for why); fields the envelope lacks are left out.
// FormatForm flattens into vehicle[id]=…&data[tags][0]=… with keys sorted
// at every level (see the package documentation).
//
// The error wraps ErrNotEnvelope if the envelope is not a JSON object,
// ErrTooLarge if a form body would exceed its bounds (MaxFormBytes,
// FormGrowth, MaxDepth), and
// ErrFormat or ErrShape if f or s is unknown. Render does not check that
// the object is a valid event: that is done where events enter the hub.
func Render(envelope []byte, f Format, s Shape) (body []byte, contentType string, err error) {
	if f == "" {
		f = FormatJSON
	}
	if s == "" {
		s = ShapeFull
	}
	if !f.Valid() {
		return nil, "", fmt.Errorf("%w %q", ErrFormat, string(f))
	}
	if !s.Valid() {
		return nil, "", fmt.Errorf("%w %q", ErrShape, string(s))
	}
	start := skipSpace(envelope, 0)
	if start >= len(envelope) || envelope[start] != '{' || !json.Valid(envelope) {
		return nil, "", notEnvelope(envelope, start)
	}
	if f == FormatJSON && s == ShapeFull {
		return envelope, ContentTypeJSON, nil
	}
	r := pool.Get().(*renderer)
	defer r.release()
	src := envelope
	if s == ShapeMinimal {
		m := r.minimal(envelope, start)
		if f == FormatJSON {
			return m, ContentTypeJSON, nil
		}
		src, start = m, 0
	}
	body, err = r.form(src, start, max(MaxFormBytes, FormGrowth*len(envelope)))
	if err != nil {
		return nil, "", err
	}
	return body, ContentTypeForm, nil
}

func notEnvelope(b []byte, start int) error {
	switch {
	case start >= len(b):
		return fmt.Errorf("%w: empty", ErrNotEnvelope)
	case !json.Valid(b):
		var v any
		err := json.Unmarshal(b, &v)
		return fmt.Errorf("%w: %w", ErrNotEnvelope, err)
	default:
		return fmt.Errorf("%w: a JSON %s", ErrNotEnvelope, kindName(b[start]))
	}
}

func kindName(c byte) string {
	switch c {
	case '[':
		return "array"
	case '"':
		return "string"
	case 't', 'f':
		return "boolean"
	case 'n':
		return "null"
	}
	return "number"
}

// renderer holds the scratch space of one Render call.
type renderer struct {
	out     []byte
	limit   int      // of len(out)
	key     []byte   // the escaped key of the value being flattened
	members []member // the members of the objects being flattened, as a stack
	str     []byte   // a decoded string
	depth   int
}

// member is one member of an object: its decoded key and where its value
// starts.
type member struct {
	key []byte
	val int
}

var pool = sync.Pool{New: func() any { return new(renderer) }}

func (r *renderer) release() {
	if cap(r.key) > 4096 || cap(r.members) > 1024 || cap(r.str) > 4096 {
		return // let an outsized one go
	}
	r.out, r.key, r.members, r.str = nil, r.key[:0], r.members[:0], r.str[:0]
	clear(r.members[:cap(r.members)]) // drop references to the envelope
	pool.Put(r)
}

// minimal returns the minimal envelope of the object at b[start:], which is
// valid JSON.
func (r *renderer) minimal(b []byte, start int) []byte {
	var id, typ, schema, occurred, account, vehicleID, seq, corrects, lat, lon []byte
	r.eachMember(b, start, func(k []byte, v int) {
		switch string(k) {
		case "id":
			id = rawValue(b, v)
		case "type":
			typ = rawValue(b, v)
		case "schemaVersion":
			schema = rawValue(b, v)
		case "occurredAt":
			occurred = rawValue(b, v)
		case "account":
			account = rawValue(b, v)
		case "seq":
			seq = rawValue(b, v)
		case "corrects":
			corrects = rawValue(b, v)
		case "vehicle":
			vehicleID = nil // a later "vehicle" replaces an earlier one
			if b[v] == '{' {
				r.eachMember(b, v, func(k []byte, v int) {
					if string(k) == "id" {
						vehicleID = rawValue(b, v)
					}
				})
			}
		case "location":
			lat, lon = nil, nil
			if b[v] == '{' {
				r.eachMember(b, v, func(k []byte, v int) {
					switch string(k) {
					case "lat":
						lat = rawValue(b, v)
					case "lon":
						lon = rawValue(b, v)
					}
				})
			}
		}
	})
	out := make([]byte, 0, 256)
	out = append(out, '{')
	field := func(name string, v []byte) {
		if v == nil {
			return
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, '"')
		out = append(out, name...)
		out = append(out, '"', ':')
		out = append(out, v...)
	}
	field("id", id)
	field("type", typ)
	field("schemaVersion", schema)
	field("occurredAt", occurred)
	field("account", account)
	if vehicleID != nil {
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, `"vehicle":{"id":`...)
		out = append(out, vehicleID...)
		out = append(out, '}')
	}
	field("seq", seq)
	field("corrects", corrects)
	if lat != nil || lon != nil {
		if len(out) > 1 {
			out = append(out, ',')
		}
		out = append(out, `"location":{`...)
		if lat != nil {
			out = append(out, `"lat":`...)
			out = append(out, lat...)
		}
		if lon != nil {
			if lat != nil {
				out = append(out, ',')
			}
			out = append(out, `"lon":`...)
			out = append(out, lon...)
		}
		out = append(out, '}')
	}
	return append(out, '}')
}

// eachMember calls fn with the decoded key and the value offset of every
// member of the object at b[i], in order, and returns the offset after the
// object.
func (r *renderer) eachMember(b []byte, i int, fn func(key []byte, val int)) int {
	i = skipSpace(b, i+1) // past '{'
	for i < len(b) && b[i] == '"' {
		kend := stringEnd(b, i)
		key := r.decodeKey(b[i+1 : kend-1])
		i = skipSpace(b, kend)
		i = skipSpace(b, i+1) // past ':'
		fn(key, i)
		i = skipSpace(b, valueEnd(b, i))
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return i + 1 // past '}'
}

// rawValue is the JSON text of the value at b[i].
func rawValue(b []byte, i int) []byte { return b[i:valueEnd(b, i)] }

// form flattens the object at b[start:], which is valid JSON.
func (r *renderer) form(b []byte, start, limit int) ([]byte, error) {
	r.out = make([]byte, 0, len(b)+len(b)/2)
	r.limit = limit
	r.key = r.key[:0]
	r.depth = 0
	if _, err := r.flatten(b, start); err != nil {
		return nil, err
	}
	return r.out, nil
}

// flatten writes the pairs of the value at b[i] under the key r.key and
// returns the offset after the value.
func (r *renderer) flatten(b []byte, i int) (int, error) {
	switch b[i] {
	case '{':
		return r.flattenObject(b, i)
	case '[':
		return r.flattenArray(b, i)
	}
	end := valueEnd(b, i)
	if len(r.out) > 0 {
		r.out = append(r.out, '&')
	}
	r.out = append(r.out, r.key...)
	r.out = append(r.out, '=')
	switch b[i] {
	case '"':
		r.str = appendUnquote(r.str[:0], b[i+1:end-1])
		r.out = appendEscape(r.out, r.str)
	case 'n': // null is empty
	case 't', 'f':
		r.out = append(r.out, b[i:end]...)
	default:
		r.out = appendNumber(r.out, b[i:end])
	}
	if len(r.out) > r.limit {
		return 0, fmt.Errorf("%w: the body exceeds %d bytes", ErrTooLarge, r.limit)
	}
	return end, nil
}

func (r *renderer) enter() error {
	r.depth++
	if r.depth > MaxDepth {
		return fmt.Errorf("%w: nested deeper than %d", ErrTooLarge, MaxDepth)
	}
	return nil
}

func (r *renderer) flattenObject(b []byte, i int) (int, error) {
	if err := r.enter(); err != nil {
		return 0, err
	}
	defer func() { r.depth-- }()
	// Collect the members, sort them by key, keep the last of equal keys.
	lo := len(r.members)
	end := r.eachMember(b, i, func(k []byte, v int) {
		r.members = append(r.members, member{key: k, val: v})
	})
	hi := len(r.members)
	slices.SortStableFunc(r.members[lo:hi], func(x, y member) int { return bytes.Compare(x.key, y.key) })
	prefix, top := len(r.key), r.depth == 1
	for j := lo; j < hi; j++ {
		m := r.members[j]
		if j+1 < hi && bytes.Equal(m.key, r.members[j+1].key) {
			continue
		}
		if top {
			r.key = appendEscape(r.key, m.key)
		} else {
			r.key = append(r.key, "%5B"...)
			r.key = appendEscape(r.key, m.key)
			r.key = append(r.key, "%5D"...)
		}
		if _, err := r.flatten(b, m.val); err != nil {
			return 0, err
		}
		r.key = r.key[:prefix]
	}
	clear(r.members[lo:hi])
	r.members = r.members[:lo]
	return end, nil
}

func (r *renderer) flattenArray(b []byte, i int) (int, error) {
	if err := r.enter(); err != nil {
		return 0, err
	}
	defer func() { r.depth-- }()
	prefix := len(r.key)
	i = skipSpace(b, i+1)
	for n := 0; i < len(b) && b[i] != ']'; n++ {
		r.key = append(r.key, "%5B"...)
		r.key = strconv.AppendInt(r.key, int64(n), 10)
		r.key = append(r.key, "%5D"...)
		end, err := r.flatten(b, i)
		if err != nil {
			return 0, err
		}
		r.key = r.key[:prefix]
		i = skipSpace(b, end)
		if i < len(b) && b[i] == ',' {
			i = skipSpace(b, i+1)
		}
	}
	return i + 1, nil
}

// decodeKey returns the decoded key whose JSON text (without quotes) is
// raw: raw itself when it has no escapes and is ASCII.
func (r *renderer) decodeKey(raw []byte) []byte {
	for _, c := range raw {
		if c == '\\' || c >= utf8.RuneSelf {
			return appendUnquote(nil, raw)
		}
	}
	return raw
}

// The scanner. It is only given valid JSON: Render checks with json.Valid
// first.

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// stringEnd returns the offset after the closing quote of the string
// starting at b[i].
func stringEnd(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(b)
}

// valueEnd returns the offset after the value starting at b[i].
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return len(b)
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '"':
				i = stringEnd(b, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return len(b)
	case 't', 'n':
		return min(i+4, len(b))
	case 'f':
		return min(i+5, len(b))
	}
	for i < len(b) {
		switch c := b[i]; {
		case c >= '0' && c <= '9', c == '-', c == '+', c == '.', c == 'e', c == 'E':
			i++
		default:
			return i
		}
	}
	return i
}

// appendUnquote appends the string whose JSON text (without quotes) is raw,
// decoded as encoding/json does: invalid UTF-8 and unpaired surrogates
// become U+FFFD.
func appendUnquote(dst, raw []byte) []byte {
	for i := 0; i < len(raw); {
		c := raw[i]
		switch {
		case c == '\\' && i+1 < len(raw):
			i += 2
			switch raw[i-1] {
			case 'b':
				dst = append(dst, '\b')
			case 'f':
				dst = append(dst, '\f')
			case 'n':
				dst = append(dst, '\n')
			case 'r':
				dst = append(dst, '\r')
			case 't':
				dst = append(dst, '\t')
			case 'u':
				r1, ok := hex4(raw, i)
				if !ok {
					dst = utf8.AppendRune(dst, utf8.RuneError)
					continue
				}
				i += 4
				if utf16.IsSurrogate(r1) {
					if i+1 < len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
						if r2, ok := hex4(raw, i+2); ok {
							if d := utf16.DecodeRune(r1, r2); d != utf8.RuneError {
								dst = utf8.AppendRune(dst, d)
								i += 6
								continue
							}
						}
					}
					r1 = utf8.RuneError
				}
				dst = utf8.AppendRune(dst, r1)
			default: // '"', '\\', '/'
				dst = append(dst, raw[i-1])
			}
		case c < utf8.RuneSelf:
			dst = append(dst, c)
			i++
		default:
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 {
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, raw[i:i+size]...)
			}
			i += size
		}
	}
	return dst
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// appendEscape appends s escaped for application/x-www-form-urlencoded as
// url.QueryEscape does: letters, digits and -_.~ as they are, space as +,
// every other byte as %XX.
func appendEscape(dst, s []byte) []byte {
	const hex = "0123456789ABCDEF"
	for _, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '-', c == '_', c == '.', c == '~':
			dst = append(dst, c)
		case c == ' ':
			dst = append(dst, '+')
		default:
			dst = append(dst, '%', hex[c>>4], hex[c&15])
		}
	}
	return dst
}

// maxPoint bounds how far an exponent may move the decimal point when a
// number is written out: beyond every float64 (1.8e308, 4.9e-324), a number
// keeps its exponent rather than turn into hundreds of zeros.
const maxPoint = 400

// appendNumber appends the JSON number num, escaped for a form, without an
// exponent: the digits as they are if it has none, else written out exactly
// (no rounding: the digits move, they are not recomputed).
func appendNumber(dst, num []byte) []byte {
	e := bytes.IndexAny(num, "eE")
	if e < 0 {
		return append(dst, num...)
	}
	mant, expText := num[:e], num[e+1:]
	exp, err := strconv.Atoi(string(expText))
	if err != nil || exp > maxPoint || exp < -maxPoint {
		return appendEscape(dst, num) // 1e+999: the + must not become a space
	}
	neg := len(mant) > 0 && mant[0] == '-'
	if neg {
		mant = mant[1:]
	}
	// digits with the point after point digits.
	intPart, frac := mant, []byte(nil)
	if dot := bytes.IndexByte(mant, '.'); dot >= 0 {
		intPart, frac = mant[:dot], mant[dot+1:]
	}
	var buf [64]byte
	digits := append(append(buf[:0], intPart...), frac...)
	point := len(intPart) + exp
	for len(digits) > 0 && digits[0] == '0' {
		digits = digits[1:]
		point--
	}
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
	}
	if len(digits) == 0 {
		return append(dst, '0')
	}
	if neg {
		dst = append(dst, '-')
	}
	switch {
	case point <= 0:
		dst = append(dst, '0', '.')
		for range -point {
			dst = append(dst, '0')
		}
		dst = append(dst, digits...)
	case point >= len(digits):
		dst = append(dst, digits...)
		for range point - len(digits) {
			dst = append(dst, '0')
		}
	default:
		dst = append(dst, digits[:point]...)
		dst = append(dst, '.')
		dst = append(dst, digits[point:]...)
	}
	return dst
}
