package server

import (
	"mime"
	"strings"

	"github.com/diarybroker/broker/pkg/linking"
)

// rosterCSVOptions reads the Content-Type of a roster upload: NDJSON
// (application/x-ndjson, application/jsonl, or none) or CSV (text/csv, its
// charset parameter naming utf-8 or windows-1251; without one the
// encoding is detected). ok is false for anything else.
func rosterCSVOptions(contentType string) (opt linking.CSVOptions, isCSV, ok bool) {
	if contentType == "" {
		return opt, false, true
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return opt, false, false
	}
	switch mt {
	case "application/x-ndjson", "application/jsonl":
		return opt, false, true
	case "text/csv":
		switch cs := strings.ToLower(params["charset"]); cs {
		case "":
		case "utf-8", "utf8":
			opt.Encoding = linking.EncodingUTF8
		case "windows-1251", "cp1251":
			opt.Encoding = linking.EncodingWindows1251
		default:
			return opt, true, false
		}
		return opt, true, true
	}
	return opt, false, false
}
