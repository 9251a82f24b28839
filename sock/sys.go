//go:build linux

package sock

import (
	"context"
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// ignoringEINTR calls fn until it returns something other than EINTR: the one place that
// decides a system call interrupted by a signal is made again, so that EINTR never leaves sock.
// fn does not escape, so a closure passed here costs no allocation.
func ignoringEINTR(fn func() error) error {
	for {
		err := fn()
		if err != unix.EINTR {
			return err
		}
	}
}

// rawSyscall makes a system call that cannot block (every socket here is non-blocking) directly,
// without telling the scheduler, and returns its result and errno.
func rawSyscall(trap, a1, a2, a3 uintptr) unix.Errno {
	_, _, e := unix.RawSyscall(trap, a1, a2, a3)
	return e
}

// errnoErr returns e as an error, nil for 0.
func errnoErr(e unix.Errno) error {
	if e == 0 {
		return nil
	}
	return e
}

// fail wraps err as the *os.SyscallError of op. nil stays nil, and a context's error passes
// through, so callers can tell a cancelled wait from a failed call.
func fail(op string, err error) error {
	if e, ok := err.(unix.Errno); ok { // the common case, without errors.Is and As
		return os.NewSyscallError(op, e)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	}
	var se *os.SyscallError
	if errors.As(err, &se) && se.Syscall == op {
		return err
	}
	if e := ErrnoOf(err); e != 0 {
		return os.NewSyscallError(op, e)
	}
	return os.NewSyscallError(op, err)
}
