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

// maxIssueGroup is how many invoices the issuer numbers in one transaction.
const maxIssueGroup = 64

// issueWorkers is how many groups of one process are sent to PostgreSQL at
// once. One is enough: while a group is on its way, the next gathers.
const issueWorkers = 1

// issuer numbers and writes, on PostgreSQL, the invoices issued at creation
// that arrive together, in one transaction (group issuing). Every issuer
// in the business queues on its series' counter row from the number to the
// commit; numbering a group per hold of the row, instead of one invoice,
// is what lets issuing go faster than one commit after another.
//
// Each invoice is written by one statement that also takes its number
// (numberedSQL); the statements of a group go to PostgreSQL as one pipeline
// ending in one Sync, so they form one implicit transaction, sent in one
// round trip, and nothing of Remit's runs while the group holds the row.
// A statement that fails for its own reason (a constraint of its rows) is
// answered with its error and the group runs again without it; a group
// that lost a deadlock or failed to serialize runs again as a whole, at
// most maxAttempts times. A rollback gives every number of the group back,
// so numbers stay gapless, as a crash before the commit does.
type issuer struct {
	sql       *sql.DB
	translate func(error) error
	jobs      chan *issueJob
	done      chan struct{}
	stopped   sync.WaitGroup
	once      sync.Once
}

// issueJob is one invoice's statement, queued for the issuer.
type issueJob struct {
	ctx    context.Context
	series string // the counter the statement bumps ("" when none)
	query  string // in PostgreSQL's dialect
	args   []any
	// state moves from queued to started (by the issuer) or to abandoned
	// (by a caller whose context ended first), exactly once.
	state  atomic.Int32
	result chan issueResult
}

type issueResult struct {
	number string
	err    error
}

func newIssuer(db *gorm.DB) *issuer {
	sqlDB, _ := db.DB()
	is := &issuer{sql: sqlDB, jobs: make(chan *issueJob, 4*maxIssueGroup), done: make(chan struct{})}
	is.translate = func(err error) error {
		if t, ok := db.Dialector.(gorm.ErrorTranslator); ok {
			err = t.Translate(err)
		}
		return translate(err)
	}
	for range issueWorkers {
		is.stopped.Add(1)
		go is.loop()
	}
	return is
}

// issue runs the statement query (one row, one column: the number) in the
// next group and returns the number. A caller whose context ends before
// the issuer takes its job gets the context's error and the job never
// runs; once taken, the caller waits for the outcome.
func (is *issuer) issue(ctx context.Context, series, query string, args []any) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	j := &issueJob{ctx: ctx, series: series, query: query, args: args, result: make(chan issueResult, 1)}
	select {
	case is.jobs <- j:
	case <-ctx.Done():
		return "", ctx.Err()
	case <-is.done:
		return "", errClosed
	}
	select {
	case r := <-j.result:
		return r.number, r.err
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
	return r.number, r.err
}

// close stops the issuer after the groups it is running and fails the jobs
// still queued.
func (is *issuer) close() {
	is.once.Do(func() { close(is.done) })
	is.stopped.Wait()
	for {
		select {
		case j := <-is.jobs:
			if j.state.CompareAndSwap(jobQueued, jobStarted) {
				j.result <- issueResult{err: errClosed}
			}
		default:
			return
		}
	}
}

func (is *issuer) loop() {
	defer is.stopped.Done()
	group := make([]*issueJob, 0, maxIssueGroup)
	for {
		var first *issueJob
		select {
		case first = <-is.jobs:
		case <-is.done:
			return
		}
		group = append(group[:0], first)
	collect:
		for len(group) < maxIssueGroup {
			select {
			case j := <-is.jobs:
				group = append(group, j)
			default:
				break collect
			}
		}
		live := group[:0:0]
		for _, j := range group {
			if j.state.CompareAndSwap(jobQueued, jobStarted) {
				live = append(live, j)
			}
		}
		if len(live) > 0 {
			is.run(live)
		}
	}
}

// run writes a group and answers each of its jobs.
func (is *issuer) run(group []*issueJob) {
	// Counter rows are locked in the order of their series, so that two
	// groups holding invoices of two years cannot deadlock.
	slices.SortStableFunc(group, func(a, b *issueJob) int {
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
				j.result <- issueResult{number: numbers[i]}
			}
			return
		case failed >= 0 && !retryable(err):
			// That statement's own error: answer it, run the others again.
			var pg *pgconn.PgError
			errors.As(err, &pg)
			group[failed].result <- issueResult{err: is.translate(pg)}
			group = slices.Delete(group, failed, failed+1)
		case retryable(err) && attempt < maxAttempts:
			backoff := min(time.Duration(1<<attempt)*2*time.Millisecond, 250*time.Millisecond)
			time.Sleep(backoff/2 + time.Duration(mrand.Int64N(int64(backoff))))
			attempt++
		default:
			if retryable(err) {
				err = domain.Errorf(domain.EUNAVAILABLE, "the database could not order this request among concurrent ones in %d attempts; retry it", attempt)
			} else {
				err = fmt.Errorf("issue %d invoices: %w", len(group), err)
			}
			for _, j := range group {
				j.result <- issueResult{err: is.translate(err)}
			}
			return
		}
	}
}

// send runs the group's statements as one pipeline, one implicit
// transaction. It returns the numbers, or the error and the index of the
// statement that failed (-1: the connection or the commit failed).
func (is *issuer) send(group []*issueJob) (numbers []string, failed int, err error) {
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
