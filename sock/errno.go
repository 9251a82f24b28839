//go:build linux

package sock

import (
	"errors"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// Strerror returns the text glibc's strerror(3) gives e, such as "Connection refused".
func Strerror(e unix.Errno) string {
	if int(e) > 0 && int(e) < len(errnoTable) && errnoTable[e].text != "" {
		return errnoTable[e].text
	}
	return "Unknown error " + strconv.Itoa(int(e))
}

// ErrnoName returns the symbolic name of e, such as "ECONNREFUSED", or "" when e has none.
func ErrnoName(e unix.Errno) string {
	if int(e) > 0 && int(e) < len(errnoTable) {
		return errnoTable[e].name
	}
	return ""
}

// ErrnoValue returns the errno whose symbolic name is name, such as unix.ECONNREFUSED for
// "ECONNREFUSED".
func ErrnoValue(name string) (unix.Errno, bool) {
	for i, e := range errnoTable {
		if e.name == name {
			return unix.Errno(i), true
		}
	}
	return 0, false
}

// Errnos calls fn for every errno that has a name, in increasing order.
func Errnos(fn func(e unix.Errno, name string)) {
	for i, e := range errnoTable {
		if e.name != "" {
			fn(unix.Errno(i), e.name)
		}
	}
}

// ErrnoOf returns the errno that err carries, or 0 when it carries none.
func ErrnoOf(err error) unix.Errno {
	switch err := err.(type) { // the forms sock returns, without errors.As's reflection
	case nil:
		return 0
	case unix.Errno:
		return err
	case *os.SyscallError:
		if e, ok := err.Err.(unix.Errno); ok {
			return e
		}
	}
	var e unix.Errno
	if errors.As(err, &e) {
		return e
	}
	return 0
}
