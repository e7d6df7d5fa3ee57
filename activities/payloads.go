package activities

import (
	"github.com/labelflow/labelflow/internal/delivery"
	"github.com/labelflow/labelflow/internal/payroll"
	"github.com/labelflow/labelflow/internal/results"
)

// Inputs and results of activities that are records of a domain package: the package owns the
// type and its rules, and these are the names the workflows use for them. Aliases, not copies, so
// that the JSON in workflow histories is the record's own.
type (
	// Contribution is one person's answer to one item (RecordChunk, StoreSettled).
	Contribution = results.Contribution
	// ItemResult is the outcome of one item (RecordChunk, StoreSettled).
	ItemResult = results.Item
	// SubmittedSuite is one accepted suite of a chunk (RecordChunk).
	SubmittedSuite = results.SubmittedSuite
	// Redelivery names a re-delivery's receipts, target and formats (DeliverChunk,
	// WriteDeliveryManifest).
	Redelivery = delivery.Redelivery
	// DeliveryReceipt is DeliverChunk's result.
	DeliveryReceipt = delivery.Receipt
	// DeliveryManifestResult is WriteDeliveryManifest's result.
	DeliveryManifestResult = delivery.ManifestResult
	// PayrollSummary is AggregatePayroll's result.
	PayrollSummary = payroll.Summary
)
