package store

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"gorm.io/gorm"
)

// maxGroup is how many transactions the SQLite writer commits at once.
const maxGroup = 64

// groupCommitter runs the write transactions of a SQLite database on its one
// writer connection, committing those that arrive together in one SQLite
// transaction (group commit). Each keeps its own atomicity through a
// savepoint: one that fails is rolled back to its savepoint and the others
// commit. SQLite has a single writer anyway; what grouping saves is a
// BEGIN, a COMMIT and its WAL write per transaction, and writing a page
// that several transactions changed once instead of once each.
type groupCommitter struct {
	write *gorm.DB
	jobs  chan *writeJob
	// done asks the writer to stop; stopped is closed once it has, after
	// failing whatever was still queued.
	done    chan struct{}
	stopped chan struct{}
	once    sync.Once
}

// writeJob is one caller's transaction, queued for the writer.
type writeJob struct {
	ctx context.Context
	fn  func(tx *gorm.DB) error
	// state moves from queued to started (by the writer) or to abandoned
	// (by a caller whose context ended first), exactly once.
	state  atomic.Int32
	result chan writeResult
}

const (
	jobQueued int32 = iota
	jobStarted
	jobAbandoned
)

// writeResult is what a job's function returned, or the commit's error,
// or the panic it raised (re-raised in the caller's goroutine).
type writeResult struct {
	err      error
	panicked any
}

// errClosed answers a transaction that arrives after Close.
var errClosed = errors.New("store: database closed")

// errPanicked rolls back the transaction of a job that panicked.
var errPanicked = errors.New("store: transaction panicked")

// errGroupAborted is returned to every transaction of a group that SQLite
// rolled back as a whole (a savepoint could not be rolled back to), so that
// none reports success for work that did not commit.
var errGroupAborted = errors.New("store: the write group was rolled back; nothing of this transaction was saved")

func newGroupCommitter(write *gorm.DB) *groupCommitter {
	g := &groupCommitter{write: write, jobs: make(chan *writeJob, 4*maxGroup), done: make(chan struct{}), stopped: make(chan struct{})}
	go g.loop()
	return g
}

// run queues fn and waits for its outcome. A caller whose context ends
// before the writer takes its job gets the context's error and the job never
// runs; once taken, the job runs to commit or rollback and the caller waits
// for it, so an error never hides a committed change.
func (g *groupCommitter) run(ctx context.Context, fn func(tx *gorm.DB) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j := &writeJob{ctx: ctx, fn: fn, result: make(chan writeResult, 1)}
	select {
	case g.jobs <- j:
	case <-ctx.Done():
		return ctx.Err()
	case <-g.done:
		return errClosed
	}
	var r writeResult
	select {
	case r = <-j.result:
	case <-ctx.Done():
		if j.state.CompareAndSwap(jobQueued, jobAbandoned) {
			return ctx.Err()
		}
		r = <-j.result
	case <-g.stopped:
		// Queued after the writer's last look at the queue.
		if j.state.CompareAndSwap(jobQueued, jobAbandoned) {
			return errClosed
		}
		r = <-j.result
	}
	if r.panicked != nil {
		panic(r.panicked)
	}
	return r.err
}

// close stops the writer after the group it is running, fails the jobs
// still queued, and returns once it has stopped.
func (g *groupCommitter) close() {
	g.once.Do(func() { close(g.done) })
	<-g.stopped
}

func (g *groupCommitter) loop() {
	defer close(g.stopped)
	group := make([]*writeJob, 0, maxGroup)
	for {
		var first *writeJob
		select {
		case first = <-g.jobs:
		case <-g.done:
			// Fail what is still queued rather than leave callers waiting.
			for {
				select {
				case j := <-g.jobs:
					if j.state.CompareAndSwap(jobQueued, jobStarted) {
						j.result <- writeResult{err: errClosed}
					}
				default:
					return
				}
			}
		}
		group = append(group[:0], first)
	collect:
		for len(group) < maxGroup {
			select {
			case j := <-g.jobs:
				group = append(group, j)
			default:
				break collect
			}
		}
		g.commit(group)
	}
}

// commit runs a group: alone in its own transaction when it is one job, each
// in a savepoint of one transaction otherwise.
func (g *groupCommitter) commit(group []*writeJob) {
	live := group[:0:0]
	for _, j := range group {
		if j.state.CompareAndSwap(jobQueued, jobStarted) {
			live = append(live, j)
		}
	}
	if len(live) == 0 {
		return
	}
	results := make([]writeResult, len(live))
	if len(live) == 1 {
		// The job's statements must not be interrupted by its context
		// once it holds the writer (see runJob), so the transaction gets
		// a context without cancellation too.
		j := live[0]
		tx := g.write.WithContext(context.WithoutCancel(j.ctx))
		err := tx.Transaction(func(tx *gorm.DB) error {
			results[0] = runJob(tx, j.fn)
			if results[0].panicked != nil {
				return errPanicked
			}
			return results[0].err
		})
		if results[0].err == nil && results[0].panicked == nil {
			results[0].err = err
		}
		j.result <- results[0]
		return
	}
	err := g.write.WithContext(context.Background()).Transaction(func(tx *gorm.DB) error {
		for i, j := range live {
			jtx := tx.WithContext(context.WithoutCancel(j.ctx))
			if _, err := rawExec(jtx, "SAVEPOINT grp"); err != nil {
				return err
			}
			results[i] = runJob(jtx, j.fn)
			if results[i].err == nil && results[i].panicked == nil {
				if _, err := rawExec(jtx, "RELEASE grp"); err != nil {
					return err
				}
				continue
			}
			// ROLLBACK TO keeps the savepoint open; RELEASE then drops it.
			if _, err := rawExec(jtx, "ROLLBACK TO grp"); err != nil {
				return err
			}
			if _, err := rawExec(jtx, "RELEASE grp"); err != nil {
				return err
			}
		}
		return nil
	})
	for i, j := range live {
		r := results[i]
		if err != nil && r.err == nil && r.panicked == nil {
			r.err = fmt.Errorf("%w: %w", errGroupAborted, err)
		}
		j.result <- r
	}
}

// runJob calls fn and turns a panic into a result the caller re-raises,
// with the writer's stack, since the panic happened on the writer's goroutine.
func runJob(tx *gorm.DB, fn func(tx *gorm.DB) error) (r writeResult) {
	defer func() {
		if p := recover(); p != nil {
			r = writeResult{panicked: fmt.Sprintf("%v\n\nwriter goroutine stack:\n%s", p, debug.Stack())}
		}
	}()
	return writeResult{err: fn(tx)}
}
