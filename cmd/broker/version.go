package main

import (
	"fmt"
	"os"
	"runtime/debug"
	"time"
)

// Set at build time, e.g.
//
//	go build -ldflags "-X main.version=v1.2.0 -X main.commit=$(git rev-parse HEAD) -X main.buildTime=$(date -u +%FT%TZ)" ./cmd/broker
//
// Without them the Go toolchain's build information is used: the module
// version, the VCS revision (when built with VCS stamping) and, for the
// build time, the binary's modification time.
var version, commit, buildTime string

// VersionCmd is `broker version`.
type VersionCmd struct{}

// Run prints the version, the commit and the build time.
func (VersionCmd) Run(*Globals) error {
	v, c, built := version, commit, buildTime
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		modified := false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if c == "" {
					c = s.Value
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
		if modified && c != "" && commit == "" {
			c += "+modified"
		}
	}
	if built == "" {
		if exe, err := os.Executable(); err == nil {
			if st, err := os.Stat(exe); err == nil {
				built = st.ModTime().UTC().Format(time.RFC3339)
			}
		}
	}
	fmt.Printf("broker %s\ncommit %s\nbuilt %s\n", orUnknown(v, "dev"), orUnknown(c, "unknown"), orUnknown(built, "unknown"))
	return nil
}

func orUnknown(s, unknown string) string {
	if s == "" {
		return unknown
	}
	return s
}
