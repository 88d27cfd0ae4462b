//go:build !unix

package store

import "os"

// flock is a no-op where flock(2) does not exist: restore cannot tell
// whether a server is running, and the documentation says to stop it first.
func flock(*os.File, bool) error { return nil }
