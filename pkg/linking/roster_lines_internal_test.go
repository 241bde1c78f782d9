package linking

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// TestReadChunksLines: lines are split as bufio.ScanLines splits them
// (newline and a carriage return before it dropped, no line after a final
// newline), and a line longer than MaxRowBytes is skipped to its end and
// marked, whatever the chunk it falls in and however the reader delivers
// the bytes.
func TestReadChunksLines(t *testing.T) {
	long := strings.Repeat("я", MaxRowBytes/2+1) // MaxRowBytes+2 bytes
	exact := strings.Repeat("x", MaxRowBytes)
	many := strings.Repeat("a\n", chunkLines-1) + long + "\nb\n"
	tests := []struct {
		name  string
		in    string
		lines []string
		long  []int
	}{
		{"empty", "", nil, nil},
		{"one line without newline", "a", []string{"a"}, nil},
		{"final newline", "a\nb\n", []string{"a", "b"}, nil},
		{"blank lines and CRLF", "a\r\n\r\n\nb", []string{"a", "", "", "b"}, nil},
		{"a line of exactly MaxRowBytes", exact + "\r\n" + "b", []string{exact, "b"}, nil},
		{"a long line in the middle", "a\n" + long + "\nb", []string{"a", "", "b"}, []int{2}},
		{"a long line at the end, no newline", "a\n" + long, []string{"a", ""}, []int{2}},
		{"a long line past a chunk boundary", many, append(append(slices.Repeat([]string{"a"}, chunkLines-1), ""), "b"), []int{chunkLines}},
		{"two long lines", long + "\n" + long + "\n", []string{"", ""}, []int{1, 2}},
	}
	for _, tc := range tests {
		for _, slow := range []bool{false, true} {
			name := tc.name
			if slow {
				name += " (one byte at a time)"
			}
			t.Run(name, func(t *testing.T) {
				var r = strings.NewReader(tc.in)
				out := make(chan *chunk, 100)
				var err error
				if slow {
					err = readChunks(context.Background(), iotest.OneByteReader(r), out)
				} else {
					err = readChunks(context.Background(), r, out)
				}
				close(out)
				if err != nil {
					t.Fatal(err)
				}
				var lines []string
				var longs []int
				next := 1
				for c := range out {
					if c.first != next {
						t.Fatalf("chunk starts at line %d, want %d", c.first, next)
					}
					start := 0
					for _, end := range c.ends {
						lines = append(lines, string(c.data[start:end]))
						start = end
					}
					next += len(c.ends)
					longs = append(longs, c.long...)
				}
				if !slices.Equal(lines, tc.lines) || !slices.Equal(longs, tc.long) {
					t.Fatalf("lines %d %q…, long %v; want %d lines, long %v", len(lines), firstOf(lines), longs, len(tc.lines), tc.long)
				}
			})
		}
	}
}

func firstOf(lines []string) []string {
	out := make([]string, 0, 3)
	for _, l := range lines[:min(3, len(lines))] {
		if len(l) > 20 {
			l = l[:20]
		}
		out = append(out, l)
	}
	return out
}

// TestReadChunksReadError: when the reader fails (a body over its limit),
// the complete lines before go on and the line the failure cut does not.
func TestReadChunksReadError(t *testing.T) {
	errCut := errors.New("cut")
	out := make(chan *chunk, 10)
	err := readChunks(context.Background(), io.MultiReader(strings.NewReader("a\nb\n{\"par"), iotest.ErrReader(errCut)), out)
	close(out)
	if !errors.Is(err, errCut) {
		t.Fatalf("err = %v", err)
	}
	var lines []string
	for c := range out {
		start := 0
		for _, end := range c.ends {
			lines = append(lines, string(c.data[start:end]))
			start = end
		}
	}
	if !slices.Equal(lines, []string{"a", "b"}) {
		t.Fatalf("lines = %q", lines)
	}
}
