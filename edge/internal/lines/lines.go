// Package lines reads a stream line by line, as the text sources of the
// edge (NMEA, candump output, gpsd's JSON reports) do, with a bound on the
// length of a line: a longer line is skipped and reported as ErrTooLong,
// so that garbage without newlines can neither grow a buffer without end
// nor stop the reading.
package lines

import (
	"bufio"
	"errors"
	"io"
)

// ErrTooLong means a line longer than the Reader's limit was skipped.
var ErrTooLong = errors.New("line too long")

// A Reader reads the lines of a stream, reusing one buffer.
type Reader struct {
	r *bufio.Reader
}

// NewReader returns a Reader of the lines of r that are at most size bytes
// long, terminator included. It buffers up to size bytes of r.
func NewReader(r io.Reader, size int) *Reader {
	return &Reader{bufio.NewReaderSize(r, size)}
}

// Next returns the next line, its terminator included. The line is only
// valid until the next call. A line longer than the limit is read to its
// end and skipped; Next then returns ErrTooLong with no line. At the end
// of the input Next returns the last, unterminated line, possibly empty,
// with io.EOF; a read error is returned as is.
func (r *Reader) Next() ([]byte, error) {
	line, err := r.r.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return line, err
	}
	for errors.Is(err, bufio.ErrBufferFull) {
		_, err = r.r.ReadSlice('\n')
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return nil, ErrTooLong
}
