package main

import (
	"fmt"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = ""

// VersionCmd is `broker version`.
type VersionCmd struct{}

// Run prints the version.
func (VersionCmd) Run(*Globals) error {
	v := version
	if v == "" {
		v = "dev"
		if bi, ok := debug.ReadBuildInfo(); ok {
			for _, s := range bi.Settings {
				if s.Key == "vcs.revision" && len(s.Value) >= 12 {
					v = "dev+" + s.Value[:12]
				}
			}
		}
	}
	fmt.Println("broker", v)
	return nil
}
