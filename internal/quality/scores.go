package quality

import (
	"context"
	"sync"
	"time"

	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/store"
)

// ScoreRecord is one person's record on one finished project, for one annotation type: how many
// of their answers had a judge, and how many the judge accepted. Later projects estimate the
// person's accuracy from the sum of their records.
type ScoreRecord struct {
	Answers  int `json:"answers"`
	Accepted int `json:"accepted"`
}

// RecordOf is the record a project keeps of a person's figures on it. Gold answers are the surest
// evidence: they count with the known answer as the judge. A reviewer's arbitrations of gold items
// are their only answers with a judge, so they are the reviewer's record; other arbitrations,
// final by definition, say nothing.
func RecordOf(p AnnotatorStats) ScoreRecord {
	return ScoreRecord{
		Answers:  p.Answers + p.GoldAnswers + p.GoldArbitrations,
		Accepted: p.Accepted + p.GoldCorrect + p.GoldArbitrationsCorrect,
	}
}

// SaveScore keeps a person's record on a project.
func SaveScore(ctx context.Context, s *store.Store, annotationType, person, project string, rec ScoreRecord) error {
	return s.PutJSON(ctx, layout.ScoreKey(annotationType, person, project), rec)
}

// Prior of the accuracy estimate: a person without a record is assumed right 80% of the time, and
// that assumption weighs as much as 4 answers.
const (
	PriorAccuracy = 0.8
	PriorWeight   = 4.0
)

// EstimatedAccuracy is a person's estimated accuracy for an annotation type, from their records
// on projects other than exceptProject: (prior weight × prior + accepted) / (prior weight + answers).
// The second result is the number of answers behind the estimate.
func EstimatedAccuracy(ctx context.Context, s *store.Store, annotationType, worker, exceptProject string) (float64, int, error) {
	return (*ScoreCache)(nil).Estimate(ctx, s, annotationType, worker, exceptProject, PriorAccuracy)
}

// ScoreCache keeps people's summed records for TTL. A record changes only when a project
// finishes, yet every reviewer's claim and every chunk's confidence read all of a person's
// records; a minute-old sum serves them as well. A nil cache, or a TTL of 0, reads every time.
type ScoreCache struct {
	TTL time.Duration

	mu   sync.Mutex
	sums map[string]scoreSum
}

type scoreSum struct {
	answers, accepted int
	at                time.Time
}

// EstimatedAccuracy is the package's EstimatedAccuracy through the cache.
func (c *ScoreCache) EstimatedAccuracy(ctx context.Context, s *store.Store, annotationType, worker, exceptProject string) (float64, int, error) {
	return c.Estimate(ctx, s, annotationType, worker, exceptProject, PriorAccuracy)
}

// Estimate is (prior weight × prior + accepted) / (prior weight + answers) over a person's records
// on projects other than exceptProject, and the number of answers behind it.
func (c *ScoreCache) Estimate(ctx context.Context, s *store.Store, annotationType, worker, exceptProject string, prior float64) (float64, int, error) {
	key := annotationType + "\x00" + worker + "\x00" + exceptProject
	sum, ok := c.cached(key)
	if !ok {
		var err error
		if sum, err = sumRecords(ctx, s, annotationType, worker, exceptProject); err != nil {
			return 0, 0, err
		}
		c.keep(key, sum)
	}
	return (PriorWeight*prior + float64(sum.accepted)) / (PriorWeight + float64(sum.answers)), sum.answers, nil
}

func (c *ScoreCache) cached(key string) (scoreSum, bool) {
	if c == nil || c.TTL <= 0 {
		return scoreSum{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	sum, ok := c.sums[key]
	return sum, ok && time.Since(sum.at) < c.TTL
}

func (c *ScoreCache) keep(key string, sum scoreSum) {
	if c == nil || c.TTL <= 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sums == nil {
		c.sums = map[string]scoreSum{}
	}
	c.sums[key] = sum
}

// sumRecords adds up a person's records of a type, leaving out exceptProject's own: a project's
// own record is not evidence about it.
func sumRecords(ctx context.Context, s *store.Store, annotationType, worker, exceptProject string) (scoreSum, error) {
	var sum scoreSum
	own := layout.ScoreKey(annotationType, worker, exceptProject)
	err := s.List(ctx, layout.ScorePrefix(annotationType, worker), func(key string, _ int64) error {
		if key == own {
			return nil
		}
		var rec ScoreRecord
		if err := s.GetJSON(ctx, key, &rec); err != nil {
			return err
		}
		sum.answers += rec.Answers
		sum.accepted += rec.Accepted
		return nil
	})
	sum.at = time.Now()
	return sum, err
}
