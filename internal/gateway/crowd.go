package gateway

import (
	"context"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/labelflow/labelflow/workflows"
)

// The gateway tells each project how many people are at work on it through this gateway, so
// that the project opens chunks for the crowd it has (workflows/window.go). It counts the people
// who claimed or submitted lately, and reports seldom: a crowd that grew by a chunk's share, at
// most every crowdGrowEvery; otherwise once every crowdRenewEvery while anyone works, which keeps
// the report fresh at the project. A signal is a billed action: a gateway sends a project a few
// a minute while a crowd gathers, and one a minute after.
const (
	// crowdActive is how long a person counts after their last claim or submission: a suite's
	// think time, with room to spare.
	crowdActive     = 2 * time.Minute
	crowdGrowEvery  = 5 * time.Second
	crowdRenewEvery = time.Minute
	// crowdStep is the growth reported at once: one chunk's share of the crowd.
	crowdStep = workflows.PeoplePerChunk
	// crowdMaxPeople bounds the people counted per project by one gateway.
	crowdMaxPeople = 100_000
)

// crowdWatch counts the people at work per project (bounded by cacheCap projects).
type crowdWatch struct {
	mu       sync.Mutex
	projects *lru[string, *projectCrowd]
}

type projectCrowd struct {
	seen       map[string]time.Time // person → last claim or submission
	reported   int
	reportedAt time.Time
}

func newCrowdWatch() *crowdWatch {
	return &crowdWatch{projects: newLRU[string, *projectCrowd](cacheCap)}
}

// saw notes person at work on project, and returns the count to report when a report is due.
func (c *crowdWatch) saw(project, person string, now time.Time) (people int, due bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	pc, ok := c.projects.get(project)
	if !ok {
		pc = &projectCrowd{seen: map[string]time.Time{}}
		c.projects.put(project, pc)
	}
	if _, known := pc.seen[person]; known || len(pc.seen) < crowdMaxPeople {
		pc.seen[person] = now
	}
	since := now.Sub(pc.reportedAt)
	if since < crowdGrowEvery {
		return 0, false
	}
	n := pc.count(now)
	if n < pc.reported+crowdStep && since < crowdRenewEvery {
		return 0, false
	}
	pc.reported, pc.reportedAt = n, now
	return n, true
}

// count forgets the people not seen for crowdActive and returns how many are left.
func (pc *projectCrowd) count(now time.Time) int {
	for p, at := range pc.seen {
		if now.Sub(at) >= crowdActive {
			delete(pc.seen, p)
		}
	}
	return len(pc.seen)
}

// gatewayName names this gateway in its crowd reports: the host and the process.
func gatewayName() string {
	host, _ := os.Hostname()
	name := fmt.Sprintf("%s-%d", host, os.Getpid())
	if len(name) > workflows.MaxGatewayIDLength {
		name = name[len(name)-workflows.MaxGatewayIDLength:]
	}
	return name
}

// atWork counts person at work on project, and tells the project when a report is due. The
// signal goes in the background: a person's request never waits on it, and a lost report is
// followed by the next.
func (g *Gateway) atWork(project, person string) {
	n, due := g.crowd.saw(project, person, time.Now())
	if !due {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), updateTimeout)
		defer cancel()
		report := workflows.CrowdReport{Gateway: g.name, People: n}
		if err := g.app.Temporal.SignalWorkflow(ctx, workflows.ProjectWorkflowID(project), "", workflows.SignalCrowd, report); err != nil {
			g.log.Debug().Err(err).Str("project", project).Msg("crowd report not sent")
		}
	}()
}
