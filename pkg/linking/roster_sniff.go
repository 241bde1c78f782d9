package linking

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
)

// ErrNotNDJSON is wrapped by the error of an import whose input is not
// NDJSON at all (a JSON array, a CSV file, UTF-16 text): nothing is
// imported, and the error says once what the file is, instead of one
// confusing error per line.
var ErrNotNDJSON = errors.New("the roster is not NDJSON (one JSON object per line)")

// NotNDJSONError says what the input is instead.
type NotNDJSONError struct {
	// Kind is "json_array", "json_multiline", "csv", "utf16" or "other".
	Kind string
	// What describes the input, never quoting it.
	What string
}

func (e *NotNDJSONError) Error() string { return fmt.Sprintf("%v: %s", ErrNotNDJSON, e.What) }

// Is makes errors.Is(err, ErrNotNDJSON) true.
func (e *NotNDJSONError) Is(target error) bool { return target == ErrNotNDJSON }

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// skipBOM drops a UTF-8 byte order mark at the start of br, as Excel and
// Notepad write it.
func skipBOM(br *bufio.Reader) {
	if b, _ := br.Peek(len(utf8BOM)); bytes.Equal(b, utf8BOM) {
		br.Discard(len(utf8BOM))
	}
}

// sniffNDJSON looks at the first non-blank line of br (without consuming
// it) and returns a *NotNDJSONError when the input is plainly something
// else. A file whose first line is an object goes on: its lines are
// checked one by one.
func sniffNDJSON(br *bufio.Reader) error {
	head, err := br.Peek(br.Size())
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil // the read error comes again, and is reported, when reading
	}
	if bytes.HasPrefix(head, []byte{0xFF, 0xFE}) || bytes.HasPrefix(head, []byte{0xFE, 0xFF}) {
		return &NotNDJSONError{Kind: "utf16", What: "it is UTF-16 text; save it as UTF-8"}
	}
	rest := bytes.TrimLeft(head, " \t\r\n")
	if len(rest) == 0 {
		return nil // empty: nothing to import
	}
	first, _, _ := bytes.Cut(rest, []byte("\n"))
	first = bytes.TrimSpace(first)
	switch {
	case rest[0] == '[':
		return &NotNDJSONError{Kind: "json_array", What: "it is a JSON array; write one object per line, without the brackets and commas between them (jq -c '.[]' FILE)"}
	case bytes.Equal(first, []byte("{")):
		return &NotNDJSONError{Kind: "json_multiline", What: "it holds a JSON object spread over several lines; write each object on one line (jq -c . FILE)"}
	case rest[0] == '{':
		return nil
	}
	if sep, n := csvSeparator(first); n > 1 {
		return &NotNDJSONError{Kind: "csv", What: fmt.Sprintf("it looks like CSV (its first line has %d fields separated by %q)", n, sep)}
	}
	return &NotNDJSONError{Kind: "other", What: "its first line is not a JSON object"}
}
