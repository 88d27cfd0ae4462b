package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/gorm"

	"github.com/remit/remit/domain"
)

// maxWriteGroup is how many statements a groupWriter sends in one
// transaction.
const maxWriteGroup = 64

// gatherWindow is how long a groupWriter whose last group had company
// waits, after the first statement of the next, for others to join it.
// Under load a commit (a round trip, the group's turn on its counter row,
// a WAL flush, a backend's wake-up) costs PostgreSQL and Remit about as
// much CPU as several statements, so a larger group is cheaper per write;
// a writer that was idle sends at once.
const gatherWindow = 200 * time.Microsecond

// groupWriter runs, on PostgreSQL, writes of one statement each that arrive
// together as one transaction (group commit): their statements go to
// PostgreSQL as one pipeline ending in one Sync, so they form one implicit
// transaction, sent in one round trip, committed with one WAL flush, run by
// one backend one after the other, and nothing of Remit's runs in between.
// Each statement returns one row of one text column.
//
// Issuing uses it (DB.issuer): every issuer in the business queues on its
// series' counter row from the number to the commit, and numbering a group
// per hold of the row, instead of one invoice, is what lets issuing go
// faster than one commit after another. Each invoice is written by one
// statement that also takes its number (numberedSQL), and a rollback gives
// every number of the group back, so numbers stay gapless, as a crash
// before the commit does. Inserts that stand alone (a new client) use
// another (DB.inserts), so that they never wait for a counter row.
//
// A statement that fails for its own reason (class 22 or 23: its data, a
// constraint of its rows) is answered with its error and the group runs
// again without it; a group that lost a deadlock or failed to serialize
// runs again as a whole, at most maxAttempts times; any other failure
// fails the group.
type groupWriter struct {
	sql       *sql.DB
	translate func(error) error
	jobs      chan *groupJob
	done      chan struct{}
	stopped   sync.WaitGroup
	once      sync.Once
}

// groupJob is one write's statement, queued for a groupWriter.
type groupJob struct {
	ctx    context.Context
	series string // the counter the statement bumps ("" when none)
	query  string // in PostgreSQL's dialect
	args   []any
	// state moves from queued to started (by the writer) or to abandoned
	// (by a caller whose context ended first), exactly once.
	state  atomic.Int32
	result chan groupResult
}

type groupResult struct {
	value string
	err   error
}

// newGroupWriter starts a groupWriter on db that sends up to workers
// groups at once. One is enough: while a group is on its way, the next
// gathers.
func newGroupWriter(db *gorm.DB, workers int) *groupWriter {
	sqlDB, _ := db.DB()
	is := &groupWriter{sql: sqlDB, jobs: make(chan *groupJob, 4*maxWriteGroup), done: make(chan struct{})}
	is.translate = func(err error) error {
		if t, ok := db.Dialector.(gorm.ErrorTranslator); ok {
			err = t.Translate(err)
		}
		return translate(err)
	}
	for range workers {
		is.stopped.Add(1)
		go is.loop()
	}
	return is
}

// run runs the statement query (in PostgreSQL's dialect; one row, one
// text column) in the next group and returns the value. series is the
// counter row it locks, if any: a group locks them in order. A caller
// whose context ends before the writer takes its job gets the context's
// error and the job never runs; once taken, the caller waits for the
// outcome.
func (is *groupWriter) run(ctx context.Context, series, query string, args []any) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	j := &groupJob{ctx: ctx, series: series, query: query, args: args, result: make(chan groupResult, 1)}
	select {
	case is.jobs <- j:
	case <-ctx.Done():
		return "", ctx.Err()
	case <-is.done:
		return "", errClosed
	}
	select {
	case r := <-j.result:
		return r.value, r.err
	case <-ctx.Done():
		if j.state.CompareAndSwap(jobQueued, jobAbandoned) {
			return "", ctx.Err()
		}
	case <-is.done:
		if j.state.CompareAndSwap(jobQueued, jobAbandoned) {
			return "", errClosed
		}
	}
	r := <-j.result
	return r.value, r.err
}

// close stops the writer after the groups it is running and fails the jobs
// still queued.
func (is *groupWriter) close() {
	is.once.Do(func() { close(is.done) })
	is.stopped.Wait()
	for {
		select {
		case j := <-is.jobs:
			if j.state.CompareAndSwap(jobQueued, jobStarted) {
				j.result <- groupResult{err: errClosed}
			}
		default:
			return
		}
	}
}

func (is *groupWriter) loop() {
	defer is.stopped.Done()
	group := make([]*groupJob, 0, maxWriteGroup)
	var gather *time.Timer
	last := 0 // the size of the last group sent
	for {
		var first *groupJob
		select {
		case first = <-is.jobs:
		case <-is.done:
			return
		}
		group = append(group[:0], first)
	collect:
		for len(group) < maxWriteGroup {
			select {
			case j := <-is.jobs:
				group = append(group, j)
			default:
				break collect
			}
		}
		if last > 1 && len(group) < maxWriteGroup {
			if gather == nil {
				gather = time.NewTimer(gatherWindow)
			} else {
				gather.Reset(gatherWindow)
			}
		wait:
			for len(group) < maxWriteGroup {
				select {
				case j := <-is.jobs:
					group = append(group, j)
				case <-gather.C:
					break wait
				}
			}
			gather.Stop()
		}
		live := group[:0:0]
		for _, j := range group {
			if j.state.CompareAndSwap(jobQueued, jobStarted) {
				live = append(live, j)
			}
		}
		last = len(live)
		if len(live) > 0 {
			is.write(live)
		}
	}
}

// write writes a group and answers each of its jobs.
func (is *groupWriter) write(group []*groupJob) {
	// Counter rows are locked in the order of their series, so that two
	// groups holding invoices of two years cannot deadlock.
	slices.SortStableFunc(group, func(a, b *groupJob) int {
		switch {
		case a.series < b.series:
			return -1
		case a.series > b.series:
			return 1
		}
		return 0
	})
	for attempt := 1; len(group) > 0; {
		numbers, failed, err := is.send(group)
		switch {
		case err == nil:
			for i, j := range group {
				j.result <- groupResult{value: numbers[i]}
			}
			return
		case failed >= 0 && !retryable(err):
			// That statement's own error: answer it, run the others again.
			var pg *pgconn.PgError
			errors.As(err, &pg)
			group[failed].result <- groupResult{err: is.translate(pg)}
			group = slices.Delete(group, failed, failed+1)
		case retryable(err) && attempt < maxAttempts:
			backoff := min(time.Duration(1<<attempt)*2*time.Millisecond, 250*time.Millisecond)
			time.Sleep(backoff/2 + time.Duration(mrand.Int64N(int64(backoff))))
			attempt++
		default:
			if retryable(err) {
				err = domain.Errorf(domain.EUNAVAILABLE, "the database could not order this request among concurrent ones in %d attempts; retry it", attempt)
			} else {
				err = fmt.Errorf("a group of %d writes: %w", len(group), err)
			}
			for _, j := range group {
				j.result <- groupResult{err: is.translate(err)}
			}
			return
		}
	}
}

// send runs the group's statements as one pipeline, one implicit
// transaction. It returns the numbers, or the error and the index of the
// statement that failed (-1: the connection or the commit failed).
func (is *groupWriter) send(group []*groupJob) (numbers []string, failed int, err error) {
	ctx := context.Background() // once started, a group runs to its end
	conn, err := is.sql.Conn(ctx)
	if err != nil {
		return nil, -1, err
	}
	defer conn.Close()
	failed = -1
	err = conn.Raw(func(driverConn any) error {
		pc := driverConn.(*stdlib.Conn).Conn()
		b := &pgx.Batch{}
		for _, j := range group {
			b.Queue(j.query, j.args...)
		}
		br := pc.SendBatch(ctx, b)
		numbers = make([]string, len(group))
		for i := range group {
			if err := br.QueryRow().Scan(&numbers[i]); err != nil {
				// Data and constraint errors are the statement's own;
				// anything else is the connection's or the server's.
				var pg *pgconn.PgError
				if errors.As(err, &pg) && (strings.HasPrefix(pg.Code, "22") || strings.HasPrefix(pg.Code, "23")) {
					failed = i
				}
				_ = br.Close()
				return err
			}
		}
		return br.Close()
	})
	if err != nil {
		return nil, failed, err
	}
	return numbers, -1, nil
}
