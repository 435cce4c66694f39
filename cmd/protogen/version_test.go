package main

import (
	"runtime/debug"
	"testing"
)

// -version tells a release from a development build, and says where a
// development build comes from.
func TestVersionOf(t *testing.T) {
	const path = "github.com/protogen/protogen"
	vcs := []debug.BuildSetting{
		{Key: "vcs", Value: "git"},
		{Key: "vcs.revision", Value: "21aadc978f0b0b7307ad6387d1726938033d8f97"},
		{Key: "vcs.time", Value: "2026-12-07T06:48:52Z"},
		{Key: "vcs.modified", Value: "true"},
	}
	replaced := &debug.Module{Path: "../protogen", Version: "(devel)"}
	tests := []struct {
		name string
		info debug.BuildInfo
		want string
	}{{
		name: "a release, by go install or go tool",
		info: debug.BuildInfo{Main: debug.Module{Path: path, Version: "v1.4.0"}},
		want: "v1.4.0",
	}, {
		name: "go build in a clone, which makes a pseudo-version",
		info: debug.BuildInfo{Main: debug.Module{Path: path, Version: "v0.0.0-20261207064852-21aadc978f0b+dirty"}, Settings: vcs},
		want: "v0.0.0-20261207064852-21aadc978f0b+dirty",
	}, {
		name: "(devel), with version control information",
		info: debug.BuildInfo{Main: debug.Module{Path: path, Version: "(devel)"}, Settings: vcs},
		want: "development build: revision 21aadc978f0b0b7307ad6387d1726938033d8f97 of 2026-12-07T06:48:52Z, with uncommitted changes",
	}, {
		name: "(devel), clean",
		info: debug.BuildInfo{Main: debug.Module{Path: path, Version: "(devel)"}, Settings: vcs[:3]},
		want: "development build: revision 21aadc978f0b0b7307ad6387d1726938033d8f97 of 2026-12-07T06:48:52Z",
	}, {
		name: "go run in a clone",
		info: debug.BuildInfo{Main: debug.Module{Path: path, Version: "(devel)"}},
		want: "development build: no version control information (go build records it; go run and -buildvcs=false do not)",
	}, {
		name: "go tool, with a replace directive to a clone",
		info: debug.BuildInfo{Main: debug.Module{Path: path, Version: zeroVersion, Replace: replaced}},
		want: "development build: from ../protogen (a replace directive); the go command records no revision for a replaced module",
	}}
	for _, tt := range tests {
		if got := versionOf(&tt.info); got != tt.want {
			t.Errorf("%s: versionOf = %q\nwant %q", tt.name, got, tt.want)
		}
	}
}
