package main

import (
	"errors"
	"strings"

	"github.com/alecthomas/kong"
	"github.com/hbollon/go-edlib"
)

// explainParseError turns kong's "unknown flag --adress" into "unknown flag
// --adress, did you mean --addr?" when one of the command's flags is close
// (kong itself suggests only within two edits: not --addr for --adress),
// and points to the command's --help instead of printing the whole usage.
func explainParseError(err error) string {
	msg := err.Error()
	var pe *kong.ParseError
	name, unknown := strings.CutPrefix(msg, "unknown flag ")
	if unknown && !strings.Contains(name, " ") && errors.As(err, &pe) && pe.Context != nil {
		if best := closestFlag(name, pe.Context.Flags()); best != "" {
			msg += ", did you mean " + best + "?"
		}
	}
	return msg + " (see broker " + commandOf(err) + "--help)"
}

// closestFlag is the flag nearest to name by Jaro-Winkler similarity (which
// weighs a shared beginning, as typos of flags keep it), when at least 0.8.
func closestFlag(name string, flags []*kong.Flag) string {
	bare := strings.TrimLeft(name, "-")
	best, bestSim := "", float32(0.8)
	for _, f := range flags {
		if f.Hidden {
			continue
		}
		if sim := edlib.JaroWinklerSimilarity(bare, f.Name); sim >= bestSim {
			best, bestSim = "--"+f.Name, sim
		}
	}
	return best
}

// commandOf names the command the error is about ("dev ") for its --help.
func commandOf(err error) string {
	var pe *kong.ParseError
	if !errors.As(err, &pe) || pe.Context == nil {
		return ""
	}
	if cmd := pe.Context.Command(); cmd != "" {
		var words []string
		for _, w := range strings.Fields(cmd) {
			if !strings.HasPrefix(w, "<") {
				words = append(words, w)
			}
		}
		if len(words) > 0 {
			return strings.Join(words, " ") + " "
		}
	}
	return ""
}
