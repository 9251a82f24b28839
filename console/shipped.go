package console

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/udplab/udplab/scripts"
)

// ListScripts prints the scripts udplab ships, one per line with what it shows (udplab --list).
func ListScripts(w io.Writer) {
	fmt.Fprintln(w, "The scripts udplab ships (udplab scripts/NAME.lua, or udplab NAME; run(\"NAME\") in the console):")
	for _, s := range scripts.List() {
		fmt.Fprintf(w, "  %-22s %s\n", s.Path, s.Summary)
	}
}

// openScript opens the script path names: the file on disk, or else the shipped script of
// that name (scripts/refused.lua, refused, lan/unreachable).
func openScript(path string) (io.ReadCloser, error) {
	f, err := os.Open(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return f, err
	}
	if shipped, ok := scripts.Lookup(path); ok {
		return scripts.FS.Open(shipped)
	}
	return nil, err
}

// shippedLib is the shipped scripts' lib/ folder, which require searches last.
func shippedLib() fs.FS {
	lib, err := fs.Sub(scripts.FS, "lib")
	if err != nil {
		return nil
	}
	return lib
}
