package workflows

import "testing"

// Change ids are written into histories as version markers: renaming one would make every run
// recorded with it replay as if it predated the change.
func TestChangeIDsAreTheOnesInHistories(t *testing.T) {
	for id, want := range map[changeID]string{
		versionReviewersOnlyArbitrate: "reviewers-only-arbitrate",
		versionAccuracyAware:          "accuracy-aware-assignment",
		versionSpill:                  "spill-settled-answers",
		versionExclusionLapses:        "exclusion-lapses",
		versionSerialLedgerClose:      "serial-ledger-close",
		versionLaunchGrant:            "launch-grant",
		versionDeliveryBatches:        "redelivery-chunk-batches",
		versionDrainedChunks:          "drained-chunks-leave-window",
	} {
		if string(id) != want {
			t.Errorf("change id %q, want %q", id, want)
		}
	}
}
