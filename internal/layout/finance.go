package layout

import (
	"regexp"
	"strconv"
	"strings"
	"time"
)

// ledgerRoot holds the ledger, one folder per month.
const ledgerRoot = "ledger/"

// LedgerKey — `ledger/<YYYY-MM>/<project>/chunk-NNNNNN.jsonl`, written by RecordChunk: one entry
// per annotation and per arbitration of a chunk accepted in that month. Payroll reads only keys of
// this exact form (ParseLedgerKey).
func LedgerKey(month, project string, chunk int) string {
	return LedgerProjectPrefix(month, project) + chunkFile(chunk, "jsonl")
}

// BonusKey — `ledger/<YYYY-MM>/<project>/bonus.jsonl`, written by WriteDeliveryManifest: a
// project's quality bonuses, in the ledger of the month it completed.
func BonusKey(month, project string) string {
	return LedgerProjectPrefix(month, project) + "bonus.jsonl"
}

// LedgerPrefix lists a month's ledger.
func LedgerPrefix(month string) string { return ledgerRoot + month + "/" }

// LedgerProjectPrefix lists a project's ledger files of a month.
func LedgerProjectPrefix(month, project string) string { return LedgerPrefix(month) + project + "/" }

// LedgerFile is what a ledger key names: a chunk's entries of one month (LedgerKey), or a
// project's quality bonuses (BonusKey; Bonus set, Chunk -1).
type LedgerFile struct {
	Month, Project string
	Chunk          int
	Bonus          bool
}

var ledgerKeyPattern = regexp.MustCompile(`^ledger/([0-9]{4}-[0-9]{2})/([a-z0-9][a-z0-9-]{0,62})/(?:chunk-([0-9]{6,9})|bonus)\.jsonl$`)

// ParseLedgerKey reads a key of the exact form LedgerKey or BonusKey writes. Any other key under
// ledger/ was not written by LabelFlow's ledger (a stray or planted object), and payroll does not
// read it.
func ParseLedgerKey(key string) (LedgerFile, bool) {
	m := ledgerKeyPattern.FindStringSubmatch(key)
	if m == nil {
		return LedgerFile{}, false
	}
	if _, err := time.Parse("2006-01", m[1]); err != nil {
		return LedgerFile{}, false
	}
	f := LedgerFile{Month: m[1], Project: m[2], Chunk: -1, Bonus: m[3] == ""}
	if f.Bonus {
		return f, true
	}
	f.Chunk, _ = strconv.Atoi(m[3])
	// The round trip refuses what LedgerKey never writes, such as extra leading zeros.
	return f, LedgerKey(f.Month, f.Project, f.Chunk) == key
}

// financeRoot holds what finance reads and writes: tables, rates, statements, closures,
// rejections and payout batches.
const financeRoot = "finance/"

// WageTableKey — `finance/tables/minimum-wage.csv`, uploaded by finance:
// country,currency,hourly_minimum,effective_from,source.
const WageTableKey = financeRoot + "tables/minimum-wage.csv"

// RatesKey — `finance/rates/<YYYY-MM>.csv`, uploaded by finance: the month's exchange rates,
// from,to,rate.
func RatesKey(month string) string { return financeRoot + "rates/" + month + ".csv" }

// payrollRoot holds one folder per month a payroll ran for.
const payrollRoot = financeRoot + "payroll/"

// PayrollPrefix — `finance/payroll/<YYYY-MM>/`: the finance area of a month.
func PayrollPrefix(month string) string { return payrollRoot + month + "/" }

// PayrollSummaryKey — `finance/payroll/<YYYY-MM>/summary.json`, written by AggregatePayroll: the
// finance summary of the month.
func PayrollSummaryKey(month string) string { return PayrollPrefix(month) + "summary.json" }

// StatementKey — `finance/payroll/<YYYY-MM>/statements/<person>.json`, written by
// AggregatePayroll: what one person earned in the month.
func StatementKey(month, person string) string {
	return PayrollPrefix(month) + "statements/" + person + ".json"
}

// PaidKey — `finance/payroll/<YYYY-MM>/paid/<person>.json`, written by PayPayroll: what was paid
// to a person for the month, per currency.
func PaidKey(month, person string) string { return PayrollPrefix(month) + "paid/" + person + ".json" }

// RejectedKey — `finance/payroll/<YYYY-MM>/rejected/<rejection>.jsonl`, written by
// AggregatePayroll: the entries the month set aside under one rejection.
func RejectedKey(month, rejection string) string {
	return PayrollPrefix(month) + "rejected/" + rejection + ".jsonl"
}

// ParseRejectedKey reads a key RejectedKey writes: the month that set the entries aside, and the
// rejection they were set aside under.
func ParseRejectedKey(key string) (month, rejection string, ok bool) {
	rest, ok := strings.CutPrefix(key, payrollRoot)
	if !ok {
		return "", "", false
	}
	month, rest, ok = strings.Cut(rest, "/rejected/")
	if !ok || strings.Contains(month, "/") {
		return "", "", false
	}
	rejection, ok = strings.CutSuffix(rest, ".jsonl")
	if !ok || rejection == "" || strings.Contains(rejection, "/") {
		return "", "", false
	}
	return month, rejection, true
}

// ClosurePrefix — `finance/closures/`: one closure per month a payroll ran for.
const ClosurePrefix = financeRoot + "closures/"

// ClosureKey — `finance/closures/<YYYY-MM>.json`, written by AggregatePayroll: the ledger files the
// month took, the rejections it applied, the set-aside entries it paid back.
func ClosureKey(month string) string { return ClosurePrefix + month + ".json" }

// ClosureMonth is the month a key under ClosurePrefix is the closure of.
func ClosureMonth(key string) string {
	return strings.TrimSuffix(strings.TrimPrefix(key, ClosurePrefix), ".json")
}

// RejectionPrefix — `finance/rejections/`: every rejection of work.
const RejectionPrefix = financeRoot + "rejections/"

// RejectionKey — `finance/rejections/<id>.json`, written by `payroll reject` and `reverse`: who
// rejected whose work on which project (and chunks), why, and any reversal.
func RejectionKey(id string) string { return RejectionPrefix + id + ".json" }

// PayoutBatchKey — `finance/payouts/<YYYY-MM>/<method>-<hash>.jsonl`, written by the file payout
// provider: a batch file for the bank or mobile-money operator; hash derives from the idempotency
// keys it holds.
func PayoutBatchKey(month, method, hash string) string {
	return financeRoot + "payouts/" + month + "/" + method + "-" + hash + ".jsonl"
}

// PayoutMarkerKey — `payouts/keys/<sha256(key)>.json`, written by the file payout provider: one
// marker per idempotency key, naming its batch. keyHash is the hex SHA-256 of the key.
func PayoutMarkerKey(keyHash string) string { return "payouts/keys/" + keyHash + ".json" }

// AuditPrefix — `audit/<YYYY-MM-DD>/<time>-<action>-<random>.json`, written by internal/app: one
// record per finance or ops action, done or refused.
const AuditPrefix = "audit/"

// AuditDayPrefix lists the audit records of one day (YYYY-MM-DD).
func AuditDayPrefix(day string) string { return AuditPrefix + day + "/" }

// AuditKey is where an audit record of action at time at is kept; random keeps two records of the
// same instant apart, and the key sorts by time.
func AuditKey(at time.Time, action, random string) string {
	at = at.UTC()
	return AuditDayPrefix(at.Format("2006-01-02")) + at.Format("150405.000000000") + "-" + action + "-" + random + ".json"
}
