package workflows

import (
	"slices"
	"time"

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
//
// The window also grows with the crowd. Each gateway counts the people who claimed or submitted
// on a project in the last minutes and tells its project, seldom (`crowd`): on a crowd that
// grew, at most every few seconds, otherwise once a minute. The project keeps one chunk with
// open work per PeoplePerChunk people, never fewer than Window and at most maxCrowdWindow. So a
// thousand people work at 32 chunks, about thirty at each, rather than 125 at each of 8: at a
// human pace each chunk takes a few Updates a second, the rate Temporal advises for one
// workflow. (Fewer people per chunk would spare claims, as each would stay at a chunk for more
// suites, but opening chunks by the dozen at once slowed every answer on the 2-core machine.) A
// report is a hint that only sizes the window: it is bounded, and it gives nobody work or
// rights. Versioned with versionCrowdWindow.

// SignalCrowd is a gateway's count of the people at work on a project.
const SignalCrowd = "crowd"

// CrowdReport is one gateway's count of the people who claimed or submitted on the project
// lately. At is when the project took it.
type CrowdReport struct {
	Gateway string    `json:"gateway"`
	People  int       `json:"people"`
	At      time.Time `json:"at,omitempty"`
}

// The crowd's part in the window. Recorded windows depend on these: a change to them goes
// behind a new change id (versions.go).
const (
	// PeoplePerChunk is the share of the crowd one chunk with open work is opened for.
	PeoplePerChunk = 16
	// maxCrowdWindow bounds the window a crowd opens; a larger configured Window still holds.
	maxCrowdWindow = 32
	// crowdFresh is how long a gateway's report counts: gateways report at least once a minute.
	crowdFresh = 3 * time.Minute
	// maxCrowdReports bounds the reports kept, one per gateway.
	maxCrowdReports = 16
	// MaxGatewayIDLength bounds a report's gateway name.
	MaxGatewayIDLength = 128
)

// window is how many chunks with open work the project keeps: Window, or more for a large crowd.
func (p *project) window() int {
	if !p.crowdAware {
		return p.in.Window
	}
	people := 0
	for _, r := range p.st.Crowd {
		people += r.People
	}
	return max(p.in.Window, min((people+PeoplePerChunk-1)/PeoplePerChunk, maxCrowdWindow))
}

// takeCrowd keeps each gateway's latest report, and drops those no gateway renewed in time. A
// report without a gateway name, with a name too long or a negative count is ignored.
func (p *project) takeCrowd(ctx workflow.Context, reports workflow.ReceiveChannel) {
	now := workflow.Now(ctx)
	for {
		var r CrowdReport
		if !reports.ReceiveAsync(&r) {
			return
		}
		if r.Gateway == "" || len(r.Gateway) > MaxGatewayIDLength || r.People < 0 {
			continue
		}
		r.People, r.At = min(r.People, maxCrowdWindow*PeoplePerChunk), now
		p.st.Crowd = slices.DeleteFunc(p.st.Crowd, func(c CrowdReport) bool {
			return c.Gateway == r.Gateway || now.Sub(c.At) >= crowdFresh
		})
		p.st.Crowd = append(p.st.Crowd, r)
		if n := len(p.st.Crowd); n > maxCrowdReports {
			p.st.Crowd = p.st.Crowd[n-maxCrowdReports:]
		}
	}
}

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
	w := p.window()
	return len(p.st.Running)-len(p.st.Drained) < w && len(p.st.Running) < maxRunning(w)
}

// awaitReportOrDrain waits for a chunk's report, a chunk that drained, or (paused) a resume or
// cancel that lets the project go on; ok is false when it woke without a report.
func (p *project) awaitReportOrDrain(ctx workflow.Context, finished workflow.ReceiveChannel) (sum ChunkSummary, ok bool, err error) {
	drained, crowd := workflow.GetSignalChannel(ctx, SignalChunkDrained), p.crowdChannel(ctx)
	err = workflow.Await(ctx, func() bool {
		return finished.Len() > 0 || drained.Len() > 0 || (crowd != nil && crowd.Len() > 0) || p.mayStartChunk() || p.allChunksDone()
	})
	if err != nil {
		return sum, false, err
	}
	p.takeDrained(drained)
	if crowd != nil {
		p.takeCrowd(ctx, crowd)
	}
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

// crowdChannel is where gateways' crowd reports arrive, or nil in a run started before them.
func (p *project) crowdChannel(ctx workflow.Context) workflow.ReceiveChannel {
	if !p.crowdAware {
		return nil
	}
	return workflow.GetSignalChannel(ctx, SignalCrowd)
}
