package workflows

import "go.temporal.io/sdk/workflow"

// changeID names one behaviour change of a workflow for workflow.GetVersion. The values are
// written into histories as version markers: a value never changes and is never reused, or runs
// already recorded would replay differently.
type changeID string

// The behaviour changes, each read once at the start of a run. Histories recorded before each are
// kept in testdata under <Type>-before-….history.json and replayed by the tests.
const (
	// versionReviewersOnlyArbitrate (ChunkWorkflow): reviewers arbitrate and never annotate.
	versionReviewersOnlyArbitrate changeID = "reviewers-only-arbitrate"
	// versionAccuracyAware (ChunkWorkflow): disputed gold items are arbitrated, disputes go to
	// the most accurate reviewers, and dynamic overlap weighs each annotator's accuracy.
	versionAccuracyAware changeID = "accuracy-aware-assignment"
	// versionSpill (ChunkWorkflow): settled answers are stored as the chunk goes.
	versionSpill changeID = "spill-settled-answers"
	// versionExclusionLapses (ChunkWorkflow): an exclusion after an expired lease lapses.
	versionExclusionLapses changeID = "exclusion-lapses"
	// versionSerialLedgerClose (PayrollWorkflow): months close the ledger one at a time.
	versionSerialLedgerClose changeID = "serial-ledger-close"
	// versionLaunchGrant (ProjectWorkflow): a project checks the seal of its launch.
	versionLaunchGrant changeID = "launch-grant"
	// versionChunkSeal (ProjectWorkflow, ChunkWorkflow): a project seals each chunk's input and a
	// chunk started from outside its project's run refuses an input without that seal.
	versionChunkSeal changeID = "chunk-seal"
	// versionReofferSilent (ChunkWorkflow): when a chunk has nothing else for a claimant, the items
	// of holders gone silent are offered again before their leases run out (chunk_presence.go).
	versionReofferSilent changeID = "reoffer-silent-holders"
	// versionDeliveryBatches (RedeliveryWorkflow): each activity copies a run of consecutive
	// chunks (DeliverChunks) instead of one (DeliverChunk).
	versionDeliveryBatches changeID = "redelivery-chunk-batches"
	// versionOverlapModel (ProjectWorkflow, ChunkWorkflow): single-label dynamic overlap decides
	// with the project's model fitted on its recorded answers (crowd_model.go) and stops when
	// more answers are not worth asking for.
	versionOverlapModel changeID = "overlap-model"
	// versionDrainedChunks (ChunkWorkflow, ProjectWorkflow): a chunk with nothing left for a
	// newcomer tells its project, which counts it out of the window (window.go).
	versionDrainedChunks changeID = "drained-chunks-leave-window"
	// versionNextForEveryone (ChunkWorkflow): a submission may lease the next suite of a reviewer
	// and of an annotator whose accuracy the project weighs, not only of other annotators.
	versionNextForEveryone changeID = "next-suite-for-everyone"
	// versionCrowdWindow (ProjectWorkflow): the gateways' crowd reports size the window
	// (window.go).
	versionCrowdWindow changeID = "crowd-sized-window"
)

// changesBundle records, with one version marker, every change bundled so far. Each GetVersion
// also makes the SDK upsert the TemporalChangeVersion search attribute, a billed action: a chunk
// run reading its eight changes one by one paid eight of them. A run started since the bundle
// reads only it, and pays one.
//
// A change made later gets its own id; when several have gathered, the bundle's version goes up
// and bundledIn names them with it. Runs that started before the bundle (no marker: version 0)
// read each change's own marker as they always did.
const (
	changesBundle changeID         = "changes-bundle"
	bundleVersion workflow.Version = 1
)

// bundledIn is the version of changesBundle that carries id, or 0 for a change not bundled.
func bundledIn(id changeID) workflow.Version {
	switch id {
	case versionReviewersOnlyArbitrate, versionAccuracyAware, versionSpill, versionExclusionLapses,
		versionSerialLedgerClose, versionLaunchGrant, versionChunkSeal, versionReofferSilent,
		versionDeliveryBatches, versionOverlapModel, versionDrainedChunks, versionNextForEveryone, versionCrowdWindow:
		return 1
	}
	return 0
}

// enabled reports whether this run has the change: every run started since the change does,
// and a run that started before it keeps replaying without it.
func (id changeID) enabled(ctx workflow.Context) bool {
	if v := bundledIn(id); v > 0 && workflow.GetVersion(ctx, string(changesBundle), workflow.DefaultVersion, bundleVersion) >= v {
		return true
	}
	return workflow.GetVersion(ctx, string(id), workflow.DefaultVersion, 1) >= 1
}

// chunkVersions are the behaviour changes a chunk run has; each is off only for runs started
// before it, so that their histories replay as they ran.
type chunkVersions struct {
	// reviewersOnlyArbitrate: before it, a reviewer with no dispute open annotated instead.
	reviewersOnlyArbitrate bool
	// accuracyAware: estimated accuracies steer assignment (disputed gold arbitrated, disputes
	// to the most accurate reviewers, per-annotator accuracy in dynamic overlap).
	accuracyAware bool
	// spill: settled answers are stored as the chunk goes instead of all at its end.
	spill bool
	// exclusionLapses: exclusions end two leases after the last expiry (see ItemState).
	exclusionLapses bool
	// reofferSilent: items held by people gone silent are offered again when nothing else is
	// left, and the chunk closes without waiting for them.
	reofferSilent bool
	// nextForEveryone: a submission leases the next suite of whoever submits (leaseNext).
	nextForEveryone bool
}

// readChunkVersions reads the chunk's changes once, before any handler or activity, in the order
// they were introduced: each leaves a version marker at the start of a new run's history.
func readChunkVersions(ctx workflow.Context) chunkVersions {
	return chunkVersions{
		reviewersOnlyArbitrate: versionReviewersOnlyArbitrate.enabled(ctx),
		accuracyAware:          versionAccuracyAware.enabled(ctx),
		spill:                  versionSpill.enabled(ctx),
		exclusionLapses:        versionExclusionLapses.enabled(ctx),
		reofferSilent:          versionReofferSilent.enabled(ctx),
		nextForEveryone:        versionNextForEveryone.enabled(ctx),
	}
}
