package workflows

import (
	"slices"

	"go.temporal.io/sdk/workflow"
)

// The window follows the crowd. A chunk whose items are all answered or leased has nothing for
// a newcomer, yet it runs on until its last suites come back, a think time or a lease later.
// Waiting for that end before starting the next chunk would leave a fast crowd without work at
// every turn of the window, and then send all of it at the few chunks just opened. So a chunk
// tells its project, once a run, when it has nothing left for a newcomer (`chunk-drained`), and
// the project counts it out of the window: Window chunks with open work at once, up to
// maxRunning(Window) running in all. A small crowd drains chunks slowly and the window stays as
// it is; a large one drains them fast and more run at once, each taking a share of the messages.
// Versioned with GetVersion("drained-chunks-leave-window") in both workflows.

// SignalChunkDrained is a chunk's word to its project that it has nothing left for a newcomer.
const SignalChunkDrained = "chunk-drained"

// ChunkDrained names the chunk that drained.
type ChunkDrained struct {
	Chunk int `json:"chunk"`
}

// maxRunning bounds the chunks a project runs at once, drained ones included.
func maxRunning(window int) int { return max(3*window, window+2) }

// reportDrained tells the project, once a run, that the chunk has no item left for a newcomer.
// A signal that cannot be delivered (the project has ended) is no failure of the chunk.
func (c *chunk) reportDrained(ctx workflow.Context) {
	if !c.reportsDrained || c.drainReported || c.openings(workflow.Now(ctx)).Annotate > 0 {
		return
	}
	c.drainReported = true
	_ = workflow.SignalExternalWorkflow(ctx, c.in.ProjectWorkflowID, "", SignalChunkDrained, ChunkDrained{Chunk: c.in.Chunk}).Get(ctx, nil)
}

// windowHasRoom reports whether one more chunk fits the window: before this change, while fewer
// than Window run; since, while fewer than Window have open work and the running stay bounded.
func (p *project) windowHasRoom() bool {
	if !p.drainAware {
		return len(p.st.Running) < p.in.Window
	}
	return len(p.st.Running)-len(p.st.Drained) < p.in.Window && len(p.st.Running) < maxRunning(p.in.Window)
}

// awaitReportOrDrain waits for a chunk's report, a chunk that drained, or (paused) a resume or
// cancel that lets the project go on; ok is false when it woke without a report.
func (p *project) awaitReportOrDrain(ctx workflow.Context, finished workflow.ReceiveChannel) (sum ChunkSummary, ok bool, err error) {
	drained := workflow.GetSignalChannel(ctx, SignalChunkDrained)
	err = workflow.Await(ctx, func() bool {
		return finished.Len() > 0 || drained.Len() > 0 || p.mayStartChunk() || p.allChunksDone()
	})
	if err != nil {
		return sum, false, err
	}
	p.takeDrained(drained)
	return sum, finished.ReceiveAsync(&sum), nil
}

// takeDrained counts the running chunks that drained; a repeat or a chunk no longer running is
// ignored.
func (p *project) takeDrained(drained workflow.ReceiveChannel) {
	for {
		var d ChunkDrained
		if !drained.ReceiveAsync(&d) {
			return
		}
		if slices.Contains(p.st.Running, d.Chunk) && !slices.Contains(p.st.Drained, d.Chunk) {
			p.st.Drained = append(p.st.Drained, d.Chunk)
		}
	}
}

// forgetDrained drops a chunk that finished from the drained ones.
func (p *project) forgetDrained(chunk int) {
	p.st.Drained = slices.DeleteFunc(p.st.Drained, func(c int) bool { return c == chunk })
}
