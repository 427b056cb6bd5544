package lines

import (
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// next is what a call of Next returns.
type next struct {
	line string
	err  error
}

func TestReader(t *testing.T) {
	const size = 16 // the smallest buffer bufio allows
	long := strings.Repeat("x", size)
	errDisk := errors.New("disk on fire")
	tests := []struct {
		name  string
		input io.Reader
		want  []next
	}{
		{"empty", strings.NewReader(""), []next{{"", io.EOF}}},
		{"lines", strings.NewReader("a\nbc\r\n\n"),
			[]next{{"a\n", nil}, {"bc\r\n", nil}, {"\n", nil}, {"", io.EOF}}},
		{"last line unterminated", strings.NewReader("a\nbc"), []next{{"a\n", nil}, {"bc", io.EOF}}},
		{"a line of the limit", strings.NewReader(long[1:] + "\nb\n"),
			[]next{{long[1:] + "\n", nil}, {"b\n", nil}, {"", io.EOF}}},
		{"a line one byte too long", strings.NewReader(long + "\nb\n"),
			[]next{{"", ErrTooLong}, {"b\n", nil}, {"", io.EOF}}},
		{"a line many times too long", strings.NewReader("a\n" + strings.Repeat(long, 10) + "\nb\n"),
			[]next{{"a\n", nil}, {"", ErrTooLong}, {"b\n", nil}, {"", io.EOF}}},
		{"a line too long at the end", strings.NewReader("a\n" + long + long),
			[]next{{"a\n", nil}, {"", ErrTooLong}, {"", io.EOF}}},
		{"a byte at a time", iotest.OneByteReader(strings.NewReader("a\n" + long + long + "\nb")),
			[]next{{"a\n", nil}, {"", ErrTooLong}, {"b", io.EOF}}},
		{"read error", io.MultiReader(strings.NewReader("a\nb"), iotest.ErrReader(errDisk)),
			[]next{{"a\n", nil}, {"b", errDisk}}},
		{"read error in a line too long", io.MultiReader(strings.NewReader(long+long), iotest.ErrReader(errDisk)),
			[]next{{"", errDisk}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReader(tt.input, size)
			for i, want := range tt.want {
				line, err := r.Next()
				if string(line) != want.line || !errors.Is(err, want.err) || (err == nil) != (want.err == nil) {
					t.Fatalf("Next %d = %q, %v; want %q, %v", i, line, err, want.line, want.err)
				}
			}
		})
	}
}

func TestReaderDoesNotAllocate(t *testing.T) {
	input := strings.NewReader("")
	r := NewReader(input, 64)
	text := strings.Repeat("a line\n", 10) + strings.Repeat("x", 200) + "\n"
	allocs := testing.AllocsPerRun(100, func() {
		input.Reset(text)
		for {
			if _, err := r.Next(); errors.Is(err, io.EOF) {
				break
			}
		}
	})
	if allocs != 0 {
		t.Errorf("Next allocates %v times per input", allocs)
	}
}
