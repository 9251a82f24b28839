// Package scripts holds the Lua scripts udplab ships, embedded in the binary so that
// `udplab scripts/refused.lua` (or `udplab refused`) works from any directory after go install.
// A file on disk wins over the embedded copy.
package scripts

import (
	"embed"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// FS holds the scripts: the lesson's programs and experiments at its root, the lab's in lan/, the
// helpers they require in lib/, and the lesson's C programs in c/.
//
//go:embed *.lua lan/*.lua lib/*.lua c/*.c c/*.h
var FS embed.FS

// Lookup finds the embedded script a command line names: "scripts/refused.lua", "refused.lua",
// "refused", "lan/unreachable" or "scripts/lan/unreachable.lua". It returns its path in FS.
func Lookup(name string) (string, bool) {
	name = path.Clean(strings.TrimPrefix(name, "./"))
	name = strings.TrimPrefix(name, "scripts/")
	if !strings.HasSuffix(name, ".lua") {
		name += ".lua"
	}
	if strings.HasPrefix(name, "lib/") {
		return "", false // helpers, not scripts
	}
	if info, err := fs.Stat(FS, name); err == nil && !info.IsDir() {
		return name, true
	}
	return "", false
}

// Script is one shipped script: its path in FS and what its opening comment says it is.
type Script struct {
	Path, Summary string
}

// List returns the shipped scripts (not the helpers), sorted: the loopback ones, then lan/.
func List() []Script {
	var list []Script
	for _, dir := range []string{".", "lan"} {
		entries, _ := fs.ReadDir(FS, dir)
		for _, e := range entries {
			if e.IsDir() || !strings.HasSuffix(e.Name(), ".lua") {
				continue
			}
			p := path.Join(dir, e.Name())
			b, _ := fs.ReadFile(FS, p)
			list = append(list, Script{Path: p, Summary: summary(string(b), e.Name())})
		}
	}
	sort.SliceStable(list, func(i, j int) bool {
		return strings.Count(list[i].Path, "/") < strings.Count(list[j].Path, "/")
	})
	return list
}

// summary is the opening comment's first sentence, after "-- name.lua: ".
func summary(src, name string) string {
	var text []string
	for _, line := range strings.Split(src, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "--") || strings.TrimSpace(strings.TrimPrefix(line, "--")) == "" {
			break
		}
		text = append(text, strings.TrimSpace(strings.TrimPrefix(line, "--")))
	}
	s := strings.TrimPrefix(strings.Join(text, " "), name+":")
	s = strings.TrimSpace(s)
	for i := 0; i < len(s); i++ {
		if (s[i] == '.' || s[i] == '?') && (i+1 == len(s) || s[i+1] == ' ') {
			// a short first sentence ("exercise 1 of the lesson.") is followed by its question
			if j := strings.IndexAny(s[i+1:], ".?"); i < 40 && j >= 0 {
				return s[:i+1+j+1]
			}
			return s[:i+1]
		}
	}
	return s
}
