package billing

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/remit/remit/domain"
)

// Delivery timing.
const (
	// WebhookTimeout bounds one webhook attempt, from dial to the end of the response.
	WebhookTimeout = 10 * time.Second
	// RetryWindow is how long Remit keeps retrying after the first attempt;
	// then the delivery is marked failed.
	RetryWindow = 72 * time.Hour
	// RetryBase is the wait after the first failed attempt; it doubles with
	// each further failure, up to RetryCap, and is jittered down by up to half.
	RetryBase = 30 * time.Second
	// RetryCap is the longest wait between two attempts.
	RetryCap = 6 * time.Hour

	// claimLease hides claimed deliveries from other replicas while this one
	// sends them; it is far longer than a batch takes (batchSize /
	// parallelSends rounds of at most WebhookTimeout or smtpTimeout).
	claimLease    = 5 * time.Minute
	batchSize     = 32
	parallelSends = 8
	maxExcerpt    = 1024
)

// Webhook request headers.
const (
	HeaderSignature = "Remit-Signature"
	HeaderEventID   = "Remit-Event-Id"
	HeaderEventType = "Remit-Event-Type"
)

// SignWebhook returns the Remit-Signature header value for body sent at t:
// "t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the
// endpoint secret>", the scheme Stripe uses. The key is the whole secret,
// its whsec_ prefix included.
func SignWebhook(secret string, t time.Time, body []byte) string {
	return SignWebhookWith([]string{secret}, t, body)
}

// SignWebhookWith is SignWebhook with one v1= signature per secret, in
// order: during a secret roll's overlap the new secret's comes first, then
// the previous one's, so a receiver that knows either accepts (Stripe does
// the same).
func SignWebhookWith(secrets []string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	header := "t=" + ts
	for _, secret := range secrets {
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write([]byte(ts))
		mac.Write([]byte("."))
		mac.Write(body)
		header += ",v1=" + hex.EncodeToString(mac.Sum(nil))
	}
	return header
}

// Notifier delivers the outbox: it fans new events out into deliveries,
// POSTs signed webhooks, sends e-mail when SMTP is configured, and retries
// failures with exponential backoff for RetryWindow. Every attempt is
// recorded on its delivery. Several replicas may run one each: the store's
// claims hand each delivery to one of them at a time.
type Notifier struct {
	// Attach, when set, adds a PDF to an e-mail notice (the invoice, for
	// invoice notices); ok false sends the mail without one.
	Attach func(ctx context.Context, m domain.OutboxMessage) (filename string, pdf []byte, ok bool)
	// Context, when set, gives a client e-mail what it states beyond its
	// event (the amount due today, how to pay, the basis, the greeting);
	// nil leaves them out.
	Context func(ctx context.Context, m domain.OutboxMessage) *domain.EmailContext
	// Jitter shortens a retry wait d by a random amount; tests pin it.
	// The default takes a uniform wait between d/2 and d.
	Jitter func(d time.Duration) time.Duration
	// Wall is the real clock that dates webhook signatures (the t= of
	// Remit-Signature): receivers check it against their own clock, within
	// minutes, even when the business clock is pinned (REMIT_NOW). nil: the
	// notifier's clock.
	Wall func() time.Time

	outbox domain.OutboxService
	client *http.Client
	now    func() time.Time
	logger *slog.Logger
	mailer *mailer // nil: no e-mail
}

// NewNotifier returns a notifier over the outbox service. client sends the
// webhooks (nil: WebhookClient(false), which reaches public addresses
// only); now is the clock; smtp, when not nil, turns on
// e-mail. It returns an error for unusable SMTP settings.
func NewNotifier(outbox domain.OutboxService, client *http.Client, now func() time.Time, logger *slog.Logger, smtp *SMTPConfig) (*Notifier, error) {
	if client == nil {
		client = WebhookClient(false)
	}
	n := &Notifier{outbox: outbox, client: client, now: now, logger: logger, Jitter: halfJitter}
	if smtp != nil {
		m, err := newMailer(*smtp)
		if err != nil {
			return nil, err
		}
		n.mailer = m
	}
	return n, nil
}

// halfJitter returns a uniform random duration between d/2 and d.
func halfJitter(d time.Duration) time.Duration {
	return d/2 + rand.N(d/2+1)
}

// Run delivers every interval until ctx ends.
func (n *Notifier) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, _, err := n.RunOnce(ctx); err != nil && ctx.Err() == nil {
			n.logger.Error("notice delivery failed", "error", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce fans out every new outbox event and makes one attempt at every
// delivery that is due. It returns how many attempts succeeded and how many
// failed; err is a database error that stopped it.
func (n *Notifier) RunOnce(ctx context.Context) (delivered, failed int, err error) {
	for {
		k, err := n.outbox.FanOut(ctx, batchSize, n.mailer != nil)
		if err != nil {
			return 0, 0, fmt.Errorf("fan out the outbox: %w", err)
		}
		if k < batchSize {
			break
		}
	}
	for ctx.Err() == nil {
		jobs, err := n.outbox.ClaimWebhookJobs(ctx, batchSize, claimLease)
		if err != nil {
			return delivered, failed, fmt.Errorf("claim webhook deliveries: %w", err)
		}
		d, f, err := eachParallel(jobs, func(j domain.WebhookJob) (bool, error) {
			a := n.sendWebhook(ctx, j)
			return a.Delivered, n.stale(n.outbox.RecordWebhookAttempt(context.WithoutCancel(ctx), j.Delivery.ID, a), j.Delivery.ID)
		})
		delivered, failed = delivered+d, failed+f
		if err != nil {
			return delivered, failed, fmt.Errorf("record a webhook attempt: %w", err)
		}
		if len(jobs) < batchSize {
			break
		}
	}
	for n.mailer != nil && ctx.Err() == nil {
		jobs, err := n.outbox.ClaimEmailJobs(ctx, batchSize, claimLease)
		if err != nil {
			return delivered, failed, fmt.Errorf("claim e-mail deliveries: %w", err)
		}
		d, f, err := eachParallel(jobs, func(j domain.EmailJob) (bool, error) {
			a := n.sendEmail(ctx, j)
			return a.Delivered, n.stale(n.outbox.RecordEmailAttempt(context.WithoutCancel(ctx), j.Delivery.ID, a), j.Delivery.ID)
		})
		delivered, failed = delivered+d, failed+f
		if err != nil {
			return delivered, failed, fmt.Errorf("record an e-mail attempt: %w", err)
		}
		if len(jobs) < batchSize {
			break
		}
	}
	return delivered, failed, ctx.Err()
}

// stale drops the ENOTFOUND of recording an attempt on a delivery that is no
// longer pending: this replica's lease ran out and another one finished it.
func (n *Notifier) stale(err error, deliveryID string) error {
	if domain.ErrorCode(err) == domain.ENOTFOUND {
		n.logger.Warn("delivery finished elsewhere while this attempt ran", "delivery_id", deliveryID)
		return nil
	}
	return err
}

// eachParallel runs send on every job, parallelSends at a time, and counts
// the deliveries that succeeded and failed; err joins send's errors.
func eachParallel[J any](jobs []J, send func(J) (bool, error)) (delivered, failed int, err error) {
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	sem := make(chan struct{}, parallelSends)
	for _, j := range jobs {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			ok, e := send(j)
			mu.Lock()
			defer mu.Unlock()
			if ok {
				delivered++
			} else {
				failed++
			}
			if e != nil {
				errs = append(errs, e)
			}
		})
	}
	wg.Wait()
	return delivered, failed, errors.Join(errs...)
}

// sendWebhook makes one attempt at a webhook delivery and returns its result.
func (n *Notifier) sendWebhook(ctx context.Context, j domain.WebhookJob) domain.DeliveryAttempt {
	at := n.now()
	body := []byte(j.Message.Payload)
	ctx, cancel := context.WithTimeout(ctx, WebhookTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, j.URL, bytes.NewReader(body))
	if err != nil {
		return n.failed(j.Delivery.FirstAttemptAt, j.Delivery.Attempts, domain.DeliveryAttempt{At: at, Error: err.Error()}, "webhook", j.Delivery.ID)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Remit-Webhooks/1.0")
	signedAt := at
	if n.Wall != nil {
		signedAt = n.Wall()
	}
	secrets := []string{j.Secret}
	if j.PreviousSecret != "" {
		secrets = append(secrets, j.PreviousSecret)
	}
	req.Header.Set(HeaderSignature, SignWebhookWith(secrets, signedAt, body))
	req.Header.Set(HeaderEventID, j.Message.EventID)
	req.Header.Set(HeaderEventType, j.Message.Type)
	resp, err := n.client.Do(req)
	if err != nil {
		return n.failed(j.Delivery.FirstAttemptAt, j.Delivery.Attempts, domain.DeliveryAttempt{At: at, Error: err.Error()}, "webhook", j.Delivery.ID)
	}
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, maxExcerpt))
	// Drain a little more so the connection can be reused, then let it go.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	a := domain.DeliveryAttempt{At: at, StatusCode: resp.StatusCode, ResponseExcerpt: string(excerpt)}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		a.Error = fmt.Sprintf("the endpoint answered HTTP %d; only 2xx counts as delivered", resp.StatusCode)
		return n.failed(j.Delivery.FirstAttemptAt, j.Delivery.Attempts, a, "webhook", j.Delivery.ID)
	}
	a.Delivered = true
	n.logger.Info("webhook delivered", "delivery_id", j.Delivery.ID, "event_id", j.Message.EventID,
		"type", j.Message.Type, "status", resp.StatusCode, "attempt", j.Delivery.Attempts+1)
	return a
}

// failed completes a failed attempt with when to try next (or nothing, to
// give up), and logs it. first and attempts describe the delivery before
// this attempt.
func (n *Notifier) failed(first *time.Time, attempts int, a domain.DeliveryAttempt, kind, id string) domain.DeliveryAttempt {
	start := a.At
	if first != nil {
		start = *first
	}
	a.NextAttemptAt = NextAttempt(start, a.At, attempts+1, n.Jitter)
	if a.NextAttemptAt.IsZero() {
		n.logger.Warn(kind+" delivery failed for good", "delivery_id", id, "attempts", attempts+1, "error", a.Error)
	} else {
		n.logger.Warn(kind+" attempt failed", "delivery_id", id, "attempt", attempts+1, "error", a.Error,
			"next_attempt_at", a.NextAttemptAt.Format(time.RFC3339))
	}
	return a
}

// NextAttempt returns when to retry a delivery whose first attempt was at
// first and whose attempts-th attempt failed at now: after RetryBase ×
// 2^(attempts-1), capped at RetryCap, shortened by jitter, and never past
// RetryWindow after first. It returns the zero time, meaning give up, once
// now is RetryWindow or more after first.
func NextAttempt(first, now time.Time, attempts int, jitter func(time.Duration) time.Duration) time.Time {
	deadline := first.Add(RetryWindow)
	if !now.Before(deadline) {
		return time.Time{}
	}
	wait := RetryCap
	if attempts >= 1 && attempts <= 20 {
		wait = min(RetryBase<<(attempts-1), RetryCap)
	}
	if jitter != nil {
		wait = jitter(wait)
	}
	if next := now.Add(wait); next.Before(deadline) {
		return next
	}
	return deadline
}
