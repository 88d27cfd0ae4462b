#!/usr/bin/env bash
# The README's walkthrough as one script: every step, against a running Remit,
# checking what each step answers. Run it against a server started on a fresh
# database on today's date (no REMIT_NOW):
#
#   export REMIT_ADMIN_KEY=rk_demo_admin_key_0123456789abcdef
#   go run ./cmd/remit &                       # DATABASE_URL=remit.db, a new file
#   bash docs/walkthrough.sh                   # REMIT_URL defaults to http://localhost:8080
#
# Needs bash, curl (7.82 or newer, for --json) and jq; the Stripe section also
# openssl, and runs only when STRIPE_WEBHOOK_SECRET is set to the server's
# (the server then needs STRIPE_SECRET_KEY and STRIPE_API_BASE, e.g. stripe-mock).
# Each section makes its own clients, so one section never depends on another;
# offboarding comes last. cmd/remit/walkthrough_e2e_test.go runs this script in CI.
set -euo pipefail

REMIT_URL=${REMIT_URL:-http://localhost:8080}
: "${REMIT_ADMIN_KEY:?set REMIT_ADMIN_KEY to an admin key of the server}"
H="Authorization: Bearer $REMIT_ADMIN_KEY"
for tool in curl jq date; do
  command -v "$tool" >/dev/null || { echo "walkthrough: $tool is required" >&2; exit 2; }
done

# api PATH [curl arguments...]: the answer's body; stops the script on an HTTP
# error (--fail-with-body prints the error body first).
api() { curl -sS --fail-with-body -H "$H" "$REMIT_URL$1" "${@:2}"; }
# api_status PATH [curl arguments...]: "<status> <body>", for the steps that are meant to be refused.
api_status() {
  local out
  out=$(curl -sS -H "$H" -w '\n%{http_code}' "$REMIT_URL$1" "${@:2}")
  printf '%s %s\n' "${out##*$'\n'}" "${out%$'\n'*}"
}
fail() { echo "walkthrough: FAILED: $*" >&2; exit 1; }
# check JSON FILTER WANT: fails unless jq -r FILTER of JSON prints WANT.
check() {
  local got
  got=$(jq -r "$2" <<<"$1") || fail "jq $2 on: $1"
  [ "$got" = "$3" ] || fail "$2 is '$got', want '$3' in: $1"
  echo "  ok: $2 = $3"
}
section() { printf '\n== %s\n' "$*"; }
# today ZONE [DAYS]: the date DAYS (default 0) from today in the time zone ZONE.
today() { TZ=$1 date -d "$(TZ=$1 date +%F) ${2:-0} days" +%F; }
# RUN makes names and idempotency keys unique, so the script can run twice.
RUN=$(date +%s)

section "Health"
check "$(curl -sS --fail-with-body "$REMIT_URL/healthz")" .status ok

section "Clients"
# An Idempotency-Key makes a retry safe: the replay returns the first response.
body='{"name": "ООО Ромашка", "email": "ap@romashka.example", "contact_name": "Ирина Петрова",
  "account_manager": "Sam", "timezone": "Europe/Moscow", "currency": "RUB",
  "communication": {"channel": "email", "response_time_hours": 24}, "turnaround_days": 5}'
first=$(api /v1/clients -H "Idempotency-Key: romashka-$RUN" --json "$body")
CLI=$(jq -r .id <<<"$first")
check "$first" .currency RUB
check "$(api /v1/clients -H "Idempotency-Key: romashka-$RUN" --json "$body")" .id "$CLI"
check "$(api "/v1/clients?limit=10")" "[.data[].id] | index(\"$CLI\") != null" true
check "$(api "/v1/clients/$CLI")" .timezone Europe/Moscow
check "$(api "/v1/clients/$CLI" -X PATCH --json '{"contact_name": "Олег"}')" .contact_name Олег

section "API keys"
key=$(api /v1/api_keys --json '{"name": "dashboard", "scopes": ["read"]}')   # the secret is shown once
KEY_ID=$(jq -r .id <<<"$key")
READ_KEY=$(jq -r .secret <<<"$key")
check "$key" '.scopes | join(",")' read
check "$(api /v1/api_keys)" "[.data[].id] | index(\"$KEY_ID\") != null" true
check "$(curl -sS --fail-with-body -H "Authorization: Bearer $READ_KEY" "$REMIT_URL/v1/clients?limit=1")" '.data | length' 1
api "/v1/api_keys/$KEY_ID" -X DELETE >/dev/null                             # refused at once
check "$(curl -sS -H "Authorization: Bearer $READ_KEY" "$REMIT_URL/v1/clients")" .error.code unauthorized

section "Agreements, invoices and payments"
CLI=$(api /v1/clients --json '{"name": "Acme GmbH", "email": "ap@acme.example", "currency": "EUR",
  "timezone": "Europe/Berlin"}' | jq -r .id)
TODAY=$(today Europe/Berlin)
agr=$(api "/v1/clients/$CLI/agreements" --json '{"effective_from": "'"$(today Europe/Berlin -30)"'",
  "payment_terms": "net_30", "grace_days": 0, "late_fee": {"flat": 2500, "percent": "1.5"},
  "interest": {"annual_rate": "12"}, "allocation": "charges_first",
  "suspension": {"after_days": 30, "warning_days": 7}}')
check "$agr" .version 1
check "$agr" .interest.day_count act/365
# Issue at once: the number (INV-YYYY-NNNN, gapless) and the due date come from the terms in force.
# 1.5 x 666.67 = 1,000.005 -> 1,000.01; 19 % tax of it = 190.0019 -> 190.00.
inv=$(api /v1/invoices --json '{"client_id": "'"$CLI"'", "issue": true,
  "lines": [{"description": "Website", "quantity": "1.5", "unit_amount": 66667, "tax_rate": "19"}]}')
INV=$(jq -r .id <<<"$inv")
check "$inv" .status open
check "$inv" '.number | test("^INV-[0-9]{4}-[0-9]{4}$")' true
check "$inv" .issue_date "$TODAY"
check "$inv" .due_date "$(today Europe/Berlin 30)"
check "$inv" '[.subtotal, .tax, .total] | join(" ")' "100001 19000 119001"
# A payment is allocated in the agreement's order; an overpayment becomes client credit.
pay=$(api "/v1/invoices/$INV/payments" -H "Idempotency-Key: sepa-4711-$RUN" \
  --json '{"amount": 50000, "method": "bank_transfer", "reference": "SEPA 4711"}')
check "$pay" .paid_on "$TODAY"
check "$pay" .allocation.principal 50000
check "$(api "/v1/invoices/$INV/payments" -H "Idempotency-Key: sepa-4711-$RUN" \
  --json '{"amount": 50000, "method": "bank_transfer", "reference": "SEPA 4711"}')" .id "$(jq -r .id <<<"$pay")"
check "$(api "/v1/invoices/$INV")" '[.amount_paid, .balance_due, .status] | join(" ")' "50000 69001 open"
check "$(api "/v1/invoices?client_id=$CLI&status=open")" '.data | length' 1
check "$(api "/v1/invoices/$INV/events")" '[.data[].type] | index("invoice.issued") != null' true
# An issued invoice is corrected by a credit note (its own CN-YYYY-NNNN series), never edited.
cn=$(api "/v1/invoices/$INV/credit_notes" -H "Idempotency-Key: cn-$RUN" \
  --json '{"reason": "Tax charged twice", "amount": 19001}')
check "$cn" '.number | test("^CN-[0-9]{4}-[0-9]{4}$")' true
check "$cn" '[.invoice_number == "'"$(jq -r .number <<<"$inv")"'", .applied_to_invoice] | join(" ")' "true 19001"
check "$(api "/v1/invoices/$INV")" '[.credited, .balance_due] | join(" ")' "19001 50000"
check "$(api "/v1/credit_notes?invoice_id=$INV")" '.data | length' 1
api "/v1/credit_notes/$(jq -r .id <<<"$cn")/pdf" -o /dev/null
# A tougher version for a client with issued invoices needs notice (REMIT_NOTICE_DAYS, default 30).
tougher='{"payment_terms": "net_14", "late_fee": {"flat": 4000}, "interest": {"annual_rate": "12"}}'
refused=$(api_status "/v1/clients/$CLI/agreements" --json "$(jq -c --arg d "$(today Europe/Berlin 10)" '. + {effective_from: $d}' <<<"$tougher")")
check "${refused#* }" .error.code notice_period
[ "${refused%% *}" = 422 ] || fail "a tougher version without notice: HTTP ${refused%% *}, want 422"
check "$(api "/v1/clients/$CLI/agreements" --json "$(jq -c --arg d "$(today Europe/Berlin 30)" '. + {effective_from: $d}' <<<"$tougher")")" .version 2

section "Enforcement: fees, interest, reminders, suspension"
# An invoice issued 80 days ago on net 30 is 50 days overdue today. 3,650.00 at 10 % a year
# (act/365) is 1.00 of interest a day, so every figure can be checked by counting days.
CLI=$(api /v1/clients --json '{"name": "Slowpay Ltd", "email": "ap@slowpay.example", "currency": "EUR",
  "timezone": "UTC"}' | jq -r .id)
TODAY=$(today UTC)
api "/v1/clients/$CLI/agreements" --json '{"effective_from": "'"$(today UTC -120)"'", "payment_terms": "net_30",
  "late_fee": {"flat": 2500, "percent": "1.5"}, "interest": {"annual_rate": "10"},
  "suspension": {"after_days": 30, "warning_days": 7}}' >/dev/null
inv=$(api /v1/invoices --json '{"client_id": "'"$CLI"'", "issue": true, "issue_date": "'"$(today UTC -80)"'",
  "lines": [{"description": "Hosting, one year", "unit_amount": 365000}]}')
INV=$(jq -r .id <<<"$inv")
check "$inv" .due_date "$(today UTC -50)"
check "$inv" .days_overdue 50
# The sweep runs at start and every REMIT_SWEEP_INTERVAL; an admin can run it now.
check "$(api /v1/billing/run -X POST)" .as_of "$TODAY"
check "$(api "/v1/billing/runs?limit=1")" '.data | length' 1
charges=$(api "/v1/invoices/$INV/charges")
# The late fee on day 1 overdue: 25.00 + 1.5 % of 3,650.00 = 79.75.
check "$charges" '.data[] | select(.kind == "late_fee") | "\(.amount) \(.posted_on)"' "7975 $(today UTC -49)"
# Interest: one posting per month closed so far, 1.00 a day.
check "$charges" '[.data[] | select(.kind == "interest") | .amount == .days * 100] | all' true
first_of_month=$(TZ=UTC date +%Y-%m-01)
posted_days=$(( ($(date -u -d "$first_of_month" +%s) - $(date -u -d "$(today UTC -49)" +%s)) / 86400 ))
check "$charges" '[.data[] | select(.kind == "interest") | .amount] | add' $((posted_days * 100))
# The payoff quote writes nothing: principal, fee, interest posted, and this month's days accrued.
accrued=$(( 10#$(TZ=UTC date +%d) * 100 ))
quote=$(api "/v1/invoices/$INV/accrual?as_of=$TODAY")
check "$quote" .interest_accrued_unposted "$accrued"
check "$quote" .payoff $((365000 + 7975 + posted_days * 100 + accrued))
# 50 days overdue is past the suspension line (30 days): the client is suspended.
check "$(api "/v1/clients/$CLI")" .status suspended
CHG=$(jq -r '.data[] | select(.kind == "late_fee") | .id' <<<"$charges")
check "$(api "/v1/invoices/$INV/charges/$CHG/waive" --json '{"reason": "first time, goodwill"}')" .waived true

section "Late facts: a bank transfer recorded weeks after it arrived"
# The same invoice for a client whose payments go to principal first. The sweep posts interest on the
# whole 3,650.00; then a transfer of 1,825.00 that arrived on day 1 overdue is recorded. From the next day
# the interest is 0.50 a day: each month already posted is corrected by an entry of its own (key
# interest:YYYY-MM:adj:1), the posting itself stays.
CLI=$(api /v1/clients --json '{"name": "Latepay GmbH", "email": "ap@latepay.example", "currency": "EUR",
  "timezone": "UTC"}' | jq -r .id)
api "/v1/clients/$CLI/agreements" --json '{"effective_from": "'"$(today UTC -120)"'", "payment_terms": "net_30",
  "interest": {"annual_rate": "10"}, "allocation": "principal_first"}' >/dev/null
INV=$(api /v1/invoices --json '{"client_id": "'"$CLI"'", "issue": true, "issue_date": "'"$(today UTC -80)"'",
  "lines": [{"description": "Hosting, one year", "unit_amount": 365000}]}' | jq -r .id)
api /v1/billing/run -X POST >/dev/null
check "$(api "/v1/invoices/$INV/charges")" '[.data[] | .amount] | add' $((posted_days * 100))
pay=$(api "/v1/invoices/$INV/payments" -H "Idempotency-Key: late-sepa-$RUN" \
  --json '{"amount": 182500, "paid_on": "'"$(today UTC -49)"'", "method": "bank_transfer", "reference": "SEPA 9001"}')
check "$pay" .allocation.principal 182500
charges=$(api "/v1/invoices/$INV/charges")
# Day 1 at 1.00, every later day at 0.50: what the months posted come to now, corrections included.
check "$charges" '[.data[] | .amount] | add' $((100 + (posted_days - 1) * 50))
check "$charges" '[.data[] | select(.key | test(":adj:")) | .amount < 0] | all and length > 0' true
quote=$(api "/v1/invoices/$INV/accrual?as_of=$TODAY")
check "$quote" .interest_accrued_unposted $(( 10#$(TZ=UTC date +%d) * 50 ))
check "$quote" .payoff $((182500 + 100 + (posted_days - 1) * 50 + 10#$(TZ=UTC date +%d) * 50))
check "$(api "/v1/invoices/$INV/events")" '[.data[].type] | index("payment.reallocated") == null and index("charge.adjusted") != null' true

section "Reference rates"
rates=$(api /v1/reference_rates/ECB_MRO -X PUT --json '{"rates": [
  {"effective_from": "2024-09-18", "rate": "3.65"}, {"effective_from": "2025-03-12", "rate": "2.65"},
  {"effective_from": "2025-06-11", "rate": "2.15"}]}')
check "$rates" '.rates | length' 3
check "$(api /v1/reference_rates/ECB_MRO)" '.rates[-1].rate' 2.15

section "Webhooks"
ep=$(api /v1/webhook_endpoints --json '{"url": "https://hosting.example.com/remit",
  "enabled_events": ["client.suspended", "client.reinstated"]}')
check "$ep" '.secret | startswith("whsec_")' true                            # shown once: keep it
check "$(api "/v1/webhook_endpoints/$(jq -r .id <<<"$ep")/deliveries")" '.data | type' array

section "Documents"
CLI=$(api /v1/clients --json '{"name": "Paper & Co", "email": "ap@paper.example", "currency": "EUR",
  "timezone": "UTC", "contact_name": "Jo Paper", "account_manager": "Sam"}' | jq -r .id)
TODAY=$(today UTC)
api "/v1/clients/$CLI/agreements" --json '{"effective_from": "'"$(today UTC -10)"'", "payment_terms": "net_14",
  "late_fee": {"flat": 2500}}' >/dev/null
INV=$(api /v1/invoices --json '{"client_id": "'"$CLI"'", "issue": true, "memo": "PO 4471",
  "lines": [{"description": "Brochure design", "unit_amount": 120000}]}' | jq -r .id)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
api "/v1/invoices/$INV/pdf" -D "$tmp/headers.txt" -o "$tmp/invoice.pdf"
[ "$(head -c 5 "$tmp/invoice.pdf")" = "%PDF-" ] || fail "the invoice is not a PDF"
echo "  ok: invoice PDF, $(wc -c <"$tmp/invoice.pdf") bytes"
# A repeat download of an unchanged invoice has the same ETag; sent back, the answer is 304.
ETAG=$(grep -i '^etag:' "$tmp/headers.txt" | cut -d' ' -f2 | tr -d '\r')
code=$(curl -sS -o /dev/null -w '%{http_code}' "$REMIT_URL/v1/invoices/$INV/pdf" -H "$H" -H "If-None-Match: $ETAG")
[ "$code" = 304 ] || fail "If-None-Match: HTTP $code, want 304"
echo "  ok: If-None-Match answered 304"
statement=$(api "/v1/clients/$CLI/statement?as_of=$(today UTC 5)")
check "$statement" '[.currency, .total_due, (.invoices | length)] | join(" ")' "EUR 120000 1"
api "/v1/clients/$CLI/statement.pdf?as_of=$TODAY" -o "$tmp/statement.pdf"
[ "$(head -c 5 "$tmp/statement.pdf")" = "%PDF-" ] || fail "the statement is not a PDF"
echo "  ok: statement PDF"
# A notice letter by the id of its event: subscribe to agreement.notice, then give notice of
# tougher terms (a late fee of 40.00 instead of 25.00 from 30 days on).
ep=$(api /v1/webhook_endpoints --json '{"url": "https://hosting.example.com/notices", "enabled_events": ["agreement.notice"]}')
api "/v1/clients/$CLI/agreements" --json '{"effective_from": "'"$(today UTC 30)"'", "payment_terms": "net_14",
  "late_fee": {"flat": 4000}}' >/dev/null
EVT=""
for _ in $(seq 60); do   # the deliverer fans the event out within REMIT_DELIVERY_INTERVAL
  EVT=$(api "/v1/webhook_endpoints/$(jq -r .id <<<"$ep")/deliveries" | jq -r '.data[0].event_id // empty')
  [ -n "$EVT" ] && break
  sleep 0.5
done
[ -n "$EVT" ] || fail "no agreement.notice delivery within 30 s (is REMIT_DELIVERY_INTERVAL 0?)"
api "/v1/clients/$CLI/notices/$EVT.pdf" -o "$tmp/notice.pdf"
[ "$(head -c 5 "$tmp/notice.pdf")" = "%PDF-" ] || fail "the notice is not a PDF"
echo "  ok: notice PDF for $EVT"

section "Projects and milestones"
CLI=$(api /v1/clients --json '{"name": "Relaunch GmbH", "email": "ap@relaunch.example", "currency": "EUR",
  "timezone": "UTC"}' | jq -r .id)
api "/v1/clients/$CLI/agreements" --json '{"effective_from": "'"$(today UTC -1)"'", "payment_terms": "net_14",
  "milestones": {"gate_next_on_payment": true, "client_delay_days": 10}}' >/dev/null
# A deposit (milestone 0: invoiced at once, due on receipt) and three stages.
prj=$(api /v1/projects -H "Idempotency-Key: relaunch-$RUN" --json '{"client_id": "'"$CLI"'",
  "name": "Website relaunch", "milestones": [
    {"name": "Deposit", "amount": 150000, "deposit": true},
    {"name": "Design",  "amount": 300000, "planned_date": "'"$(today UTC 20)"'"},
    {"name": "Build",   "amount": 600000, "planned_date": "'"$(today UTC 60)"'"},
    {"name": "Launch",  "amount": 150000, "planned_date": "'"$(today UTC 90)"'"}]}')
PRJ=$(jq -r .id <<<"$prj")
DEPOSIT=$(jq -r '.milestones[0].id' <<<"$prj")
DESIGN=$(jq -r '.milestones[1].id' <<<"$prj")
BUILD=$(jq -r '.milestones[2].id' <<<"$prj")
LAUNCH=$(jq -r '.milestones[3].id' <<<"$prj")
check "$prj" '[.total, .invoiced, .paid, .remaining] | join(" ")' "1200000 150000 0 1200000"
check "$prj" '.milestones[0] | "\(.status) \(.invoice.total) \(.invoice.due_date)"' "invoiced 150000 $(today UTC)"
# Design cannot start while the deposit is unpaid.
refused=$(api_status "/v1/milestones/$DESIGN/start" -X POST)
check "${refused#* }" .error.code previous_milestone_unpaid
# The client pays the deposit; then Design starts.
DEPOSIT_INV=$(jq -r '.milestones[0].invoice.id' <<<"$prj")
api "/v1/invoices/$DEPOSIT_INV/payments" --json '{"amount": 150000, "method": "bank_transfer", "reference": "deposit"}' >/dev/null
check "$(api "/v1/milestones/$DESIGN/start" -X POST)" .status in_progress
# Delivered: its invoice is issued today under the agreement in force (net_14: due in 14 days).
design=$(api "/v1/milestones/$DESIGN/deliver" -X POST)
check "$design" '"\(.status) \(.invoice.total) \(.invoice.due_date)"' "invoiced 300000 $(today UTC 14)"
api "/v1/invoices/$(jq -r .invoice.id <<<"$design")/payments" --json '{"amount": 300000, "method": "bank_transfer"}' >/dev/null
check "$(api "/v1/milestones/$BUILD/start" -X POST)" .status in_progress
# The client holds Build up: past its planned date + 10 days the sweep invoices it anyway, once.
check "$(api "/v1/milestones/$BUILD/client_delay" --json '{"note": "waiting for the hosting credentials"}')" \
  '.client_delay.note' "waiting for the hosting credentials"
# Change the plan: the whole list in its new order, existing milestones by id, new ones without.
prj=$(api "/v1/projects/$PRJ" -X PATCH --json '{"name": "Website relaunch 2026", "milestones": [
  {"id": "'"$DEPOSIT"'"}, {"id": "'"$DESIGN"'"}, {"id": "'"$BUILD"'", "amount": 650000},
  {"id": "'"$LAUNCH"'", "cancel": true}, {"name": "Care plan", "amount": 50000, "planned_date": "'"$(today UTC 120)"'"}]}')
check "$prj" '[.milestones[] | .status] | join(" ")' "paid paid in_progress cancelled pending"
check "$prj" '[.total, .paid] | join(" ")' "1150000 450000"
# Cancel: pending milestones are cancelled; issued invoices stay as they are.
check "$(api "/v1/projects/$PRJ/cancel" -X POST)" '"\(.status) \(.milestones[4].status)"' "cancelled cancelled"

section "Recurring invoices"
CLI=$(api /v1/clients --json '{"name": "Retainer Ltd '"$RUN"'", "email": "ap@retainer.example", "currency": "EUR", "timezone": "Europe/Berlin"}' | jq -r .id)
# Weekly hosting from two weeks ago: a start in the past issues the periods since at the next sweep,
# each once and dated its own issue day (today - 14, today - 7, today).
START=$(today Europe/Berlin -14)
rec=$(api /v1/recurring_invoices --json '{"client_id": "'"$CLI"'", "interval": "weekly", "start_date": "'"$START"'",
  "lines": [{"description": "Hosting, {period}", "unit_amount": 5000}]}')
REC=$(jq -r .id <<<"$rec")
check "$rec" '"\(.status) \(.next_issue_date)"' "active $START"
check "$(api "/v1/recurring_invoices/$REC/preview?count=3")" '[.data[].issue_date] | join(" ")' "$START $(today Europe/Berlin -7) $(today Europe/Berlin)"
api /v1/billing/run -X POST >/dev/null
api /v1/billing/run -X POST >/dev/null
check "$(api "/v1/invoices?client_id=$CLI")" '[.data[].issue_date] | sort | join(" ")' "$START $(today Europe/Berlin -7) $(today Europe/Berlin)"
check "$(api "/v1/recurring_invoices/$REC")" '"\(.invoices_issued) \(.next_issue_date)"' "3 $(today Europe/Berlin 7)"
check "$(api "/v1/recurring_invoices/$REC/pause" -X POST)" .status paused
refused=$(api_status "/v1/recurring_invoices/$REC/pause" -X POST)        # pausing twice: 409
check "${refused#* }" .error.code recurring_invoice_state
check "$(api "/v1/recurring_invoices/$REC/cancel" -X POST)" .status cancelled

section "Stripe"
if [ -z "${STRIPE_WEBHOOK_SECRET:-}" ]; then
  echo "  skipped: set STRIPE_WEBHOOK_SECRET (and run the server with Stripe, e.g. stripe-mock) to run it"
else
  command -v openssl >/dev/null || fail "openssl is required for the Stripe section"
  CLI=$(api /v1/clients --json '{"name": "Card Payer AG", "email": "ap@cardpayer.example", "currency": "EUR"}' | jq -r .id)
  INV=$(api /v1/invoices --json '{"client_id": "'"$CLI"'", "issue": true,
    "lines": [{"description": "Website", "unit_amount": 100000}]}' | jq -r .id)
  # A Checkout Session for the balance due now.
  session=$(api "/v1/invoices/$INV/checkout" -X POST)
  check "$session" '"\(.amount) \(.currency) \(.invoice_id)"' "100000 EUR $INV"
  check "$session" '.url | startswith("https://")' true
  # A signed event, as Stripe would send it (no API key: Stripe-Signature is checked).
  ts=$(date +%s)
  payload='{"id": "evt_walkthrough_'$RUN'", "object": "event", "type": "payment_intent.succeeded", "created": '$ts',
    "data": {"object": {"id": "pi_walkthrough_'$RUN'", "object": "payment_intent", "amount": 100000,
    "amount_received": 100000, "currency": "eur", "status": "succeeded", "metadata": {"remit_invoice_id": "'$INV'"}}}}'
  sig=$(printf '%s.%s' "$ts" "$payload" | openssl dgst -sha256 -hmac "$STRIPE_WEBHOOK_SECRET" | sed 's/^.* //')
  hook() { curl -sS --fail-with-body "$REMIT_URL/v1/stripe/webhook" -H "Stripe-Signature: t=$ts,v1=$sig" --json "$payload"; }
  check "$(hook)" '"\(.outcome) \(.duplicate)"' "payment recorded false"
  check "$(hook)" '"\(.outcome) \(.duplicate)"' "duplicate true"
  check "$(api "/v1/invoices/$INV")" '"\(.status) \(.balance_due)"' "paid 0"
  check "$(api /v1/stripe/reconcile -X POST)" '.checked | type' number
fi

section "Time and client health"
CLI=$(api /v1/clients --json '{"name": "Hours Galore", "email": "ap@hours.example", "currency": "EUR",
  "timezone": "UTC"}' | jq -r .id)
TT=$(api /v1/api_keys --json '{"name": "toggl sync", "scopes": ["time_entries"]}' | jq -r .secret)
tt() { curl -sS --fail-with-body -H "Authorization: Bearer $TT" "$REMIT_URL$1" "${@:2}"; }
check "$(tt /v1/time_entries --json '{"client_id": "'"$CLI"'", "date": "'"$(today UTC -3)"'", "minutes": 90,
  "description": "Kick-off"}')" '"\(.minutes) \(.billable)"' "90 true"
# Bulk, all or none; external_id makes it idempotent per key.
bulk='{"entries": [
  {"client_id": "'"$CLI"'", "date": "'"$(today UTC -2)"'", "minutes": 240, "external_id": "toggl-'$RUN'-1"},
  {"client_id": "'"$CLI"'", "date": "'"$(today UTC -1)"'", "minutes": 45, "billable": false, "external_id": "toggl-'$RUN'-2"}]}'
check "$(tt /v1/time_entries/bulk --json "$bulk")" '"\(.created) \(.existing)"' "2 0"
check "$(tt /v1/time_entries/bulk --json "$bulk")" '"\(.created) \(.existing)"' "0 2"
check "$(tt "/v1/time_entries?client_id=$CLI&from=$(today UTC -7)&to=$(today UTC)")" '[.data[].minutes] | add' 375
refused=$(curl -sS -H "Authorization: Bearer $TT" "$REMIT_URL/v1/clients")   # a time key reads nothing else
check "$refused" .error.code forbidden
health=$(api "/v1/clients/$CLI/health?from=$(today UTC -30)&to=$(today UTC)")
check "$health" '"\(.minutes) \(.billable_minutes) \(.hours) \(.revenue_received)"' "375 330 6.25 0"
check "$(api "/v1/reports/clients?from=$(today UTC -30)&to=$(today UTC)&limit=100")" "[.data[].client_id] | index(\"$CLI\") != null" true
csv=$(api "/v1/reports/clients?format=csv")
[ "$(head -c 15 <<<"$csv")" = rank,client_id, ] || fail "the CSV report starts with: $(head -c 40 <<<"$csv")"
echo "  ok: CSV report"

section "Errors"
refused=$(api_status /v1/clients --json '{"name": "Bad Currency", "email": "ap@bad.example", "currency": "euro"}')
[ "${refused%% *}" = 400 ] || fail "a bad currency: HTTP ${refused%% *}, want 400"
check "${refused#* }" '"\(.error.code) \(.error.fields | has("currency"))"' "invalid true"

section "Metrics"
grep -q '^remit_http_requests_total{' <<<"$(api /metrics)" || fail "no remit_http_requests_total in /metrics"
echo "  ok: remit_http_requests_total"

section "Offboarding"
CLI=$(api /v1/clients --json '{"name": "Underpaid SA", "email": "ap@underpaid.example", "currency": "EUR",
  "timezone": "UTC"}' | jq -r .id)
api "/v1/clients/$CLI/agreements" --json '{"effective_from": "'"$(today UTC -1)"'", "payment_terms": "net_14",
  "milestones": {"deposit_refundable": true}}' >/dev/null
prj=$(api /v1/projects --json '{"client_id": "'"$CLI"'", "name": "Shop", "milestones": [
  {"name": "Deposit", "amount": 50000, "deposit": true}, {"name": "Build", "amount": 200000, "planned_date": "'"$(today UTC 30)"'"}]}')
api "/v1/invoices/$(jq -r '.milestones[0].invoice.id' <<<"$prj")/payments" --json '{"amount": 50000, "method": "bank_transfer"}' >/dev/null
plan=$(api "/v1/clients/$CLI/offboard" --json '{"reason": "underpaid", "dry_run": true}')   # the plan, nothing changes
check "$plan" '"\(.dry_run) \(.cancelled_milestones | length) \(.deposit_refunds[0].amount) \(.deposit_refunds[0].via)"' "true 1 50000 owed"
check "$(api "/v1/clients/$CLI")" .status active
done_=$(api "/v1/clients/$CLI/offboard" --json '{"reason": "underpaid", "note": "rate too low"}')
check "$done_" '"\(.dry_run) \(.status)"' "false offboarded"
# The client is read-only now.
refused=$(api_status "/v1/clients/$CLI" -X PATCH --json '{"contact_name": "Someone"}')
check "${refused#* }" .error.code client_offboarded

printf '\nwalkthrough: every step answered as expected\n'
