package linking

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"golang.org/x/text/encoding/charmap"
)

// FuzzCSVRows: whatever the bytes, the CSV reader ends, never panics, and
// keeps its promises: the header is refused with ErrBadCSV or accepted;
// every output line is blank or a roster row the NDJSON parser reads; the
// output has no more lines than the input (line numbers are the file's);
// every error names a line of the file and never quotes it. The corpus is
// in testdata/fuzz/FuzzCSVRows (go test -fuzz FuzzCSVRows ./pkg/linking).
func FuzzCSVRows(f *testing.F) {
	f.Add([]byte("external_id;role;last_name;first_name;birth_date\ns-1;student;Орлова;Анна;2013-05-14\n"), "")
	f.Add([]byte("\ufeffexternal_id,role,last_name\r\n\"s,1\",student,\"Ор\"\"лова\"\r\n"), "")
	f.Add([]byte("external_id;last_name\ns-1;\"Орлова\nКуликова\"\ns-2;x;y\n;;\n"), "")
	f.Add([]byte("type;parent;student;kind\nrelation;p-1;s-1;mother\n"), "windows-1251")
	f.Add([]byte("external_id;email;phone;birth_cert_number\ns-1;a@b;+7;123456\n\"unterminated\n"), "utf-8")
	if b, err := charmap.Windows1251.NewEncoder().Bytes([]byte("external_id;last_name\ns-1;Ёлкина\n")); err == nil {
		f.Add(b, "")
	}
	f.Fuzz(func(t *testing.T, in []byte, encoding string) {
		if encoding != EncodingUTF8 && encoding != EncodingWindows1251 {
			encoding = EncodingAuto
		}
		var out bytes.Buffer
		rows, err := newCSVRows(bytes.NewReader(in), CSVOptions{Encoding: encoding}, &out)
		if err != nil {
			if !errors.Is(err, ErrBadCSV) {
				t.Fatalf("header error %v is not ErrBadCSV", err)
			}
			return
		}
		for i := 0; ; i++ {
			if i > len(in)+1 {
				t.Fatal("more records than bytes: the reader does not advance")
			}
			err := rows.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("next: %v", err)
			}
		}
		inLines := bytes.Count(in, []byte("\n")) + 1
		outLines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
		if out.Len() > 0 && len(outLines) > inLines {
			t.Fatalf("%d output lines for %d input lines", len(outLines), inLines)
		}
		for i, l := range outLines {
			if l == "" {
				continue
			}
			if _, err := ParseRosterRow([]byte(l)); err != nil {
				t.Fatalf("output line %d %q: %v", i+1, l, err)
			}
		}
		for _, e := range rows.errs {
			if e.Line < 1 || e.Line > inLines {
				t.Fatalf("error on line %d of %d: %+v", e.Line, inLines, e)
			}
			if !strings.HasPrefix(e.Message, "CSV: ") || e.ExternalID != "" {
				t.Fatalf("CSV error %+v", e)
			}
		}
	})
}
