//go:build unix

package store

import (
	"errors"
	"os"
	"syscall"
)

// flock takes an advisory lock on f without waiting: exclusive or shared.
// It returns ErrDatabaseInUse when another process holds a conflicting one.
func flock(f *os.File, exclusive bool) error {
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return ErrDatabaseInUse
		}
		return err
	}
}
