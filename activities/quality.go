package activities

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/labelflow/labelflow/internal/aggregate"
	"github.com/labelflow/labelflow/internal/label"
	"github.com/labelflow/labelflow/internal/manifest"
	"github.com/labelflow/labelflow/internal/quality"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/store"
)

// AnnotatorStats is what one person did in one chunk (or, summed, in a project).
type AnnotatorStats struct {
	Answers int `json:"answers"` // annotations given
	// Accepted counts annotations that match the final label (agreed, or sided with the reviewer).
	Accepted int `json:"accepted"`
	// Disputed counts annotations on items that went to arbitration; Overruled those the reviewer
	// decided against.
	Disputed    int   `json:"disputed"`
	Overruled   int   `json:"overruled"`
	Arbitrated  int   `json:"arbitrated"` // items this person settled as reviewer
	Seconds     int64 `json:"seconds"`
	FirstPassOK int   `json:"first_pass_ok"` // annotations on items settled by agreement
	GoldAnswers int   `json:"gold_answers"`
	GoldCorrect int   `json:"gold_correct"` // gold answers that agree with the known answer
	// GoldArbitrations counts disputed gold items this person settled as reviewer (unknowingly:
	// they look like any other), GoldArbitrationsCorrect those settled with the known answer.
	// They are what measures a reviewer's accuracy.
	GoldArbitrations        int `json:"gold_arbitrations"`
	GoldArbitrationsCorrect int `json:"gold_arbitrations_correct"`
}

func (s *AnnotatorStats) add(o AnnotatorStats) {
	s.Answers += o.Answers
	s.Accepted += o.Accepted
	s.Disputed += o.Disputed
	s.Overruled += o.Overruled
	s.Arbitrated += o.Arbitrated
	s.Seconds += o.Seconds
	s.FirstPassOK += o.FirstPassOK
	s.GoldAnswers += o.GoldAnswers
	s.GoldCorrect += o.GoldCorrect
	s.GoldArbitrations += o.GoldArbitrations
	s.GoldArbitrationsCorrect += o.GoldArbitrationsCorrect
}

// tasks is how many pieces of work the person's seconds were spent on.
func (s AnnotatorStats) tasks() int {
	return s.Answers + s.Arbitrated + s.GoldAnswers + s.GoldArbitrations
}

// ChunkStats is a chunk's contribution to the project's quality report.
type ChunkStats struct {
	Chunk      int `json:"chunk"`
	Items      int `json:"items"`
	Agreed     int `json:"agreed"`
	Arbitrated int `json:"arbitrated"`
	Overlap    int `json:"settled_by_overlap"` // settled by asking more annotators
	Gold       int `json:"gold"`               // gold items answered
	// Calibration bins gold items by the confidence their label would have been delivered with
	// (bin i holds [i/10, (i+1)/10)) and counts how many of those labels were right.
	Calibration [10]CalibrationBin        `json:"calibration"`
	Agreement   float64                   `json:"agreement"` // mean agreement measure of the first two answers
	People      map[string]AnnotatorStats `json:"people"`
}

// StatsKey holds a chunk's quality figures.
func StatsKey(project string, chunk int) string {
	return fmt.Sprintf("projects/%s/stats/chunk-%06d.json", project, chunk)
}

// chunkStats measures a finished chunk.
func chunkStats(sp spec.Project, chunk int, items []manifest.Item, results []ItemResult) ChunkStats {
	typ, _ := label.Lookup(sp.Annotation.Type)
	st := ChunkStats{Chunk: chunk, People: map[string]AnnotatorStats{}}
	sumAgreement := 0.0
	for i, r := range results {
		if i < len(items) && items[i].Gold {
			// Gold answers are scored against the known answer and kept apart.
			var line struct {
				Truth json.RawMessage `json:"truth"`
			}
			_ = json.Unmarshal(items[i].Data, &line)
			right := func(a label.Answer) bool {
				return typ != nil && len(line.Truth) > 0 && label.Agree(typ, a, line.Truth, 0)
			}
			for _, c := range r.Annotations {
				p := st.People[c.Worker]
				p.GoldAnswers++
				p.Seconds += int64(c.Seconds)
				if right(c.Answer) {
					p.GoldCorrect++
				}
				st.People[c.Worker] = p
			}
			if a := r.Arbitration; a != nil {
				// A disputed gold item went to a reviewer like any other: their answer is scored too.
				p := st.People[a.Worker]
				p.GoldArbitrations++
				p.Seconds += int64(a.Seconds)
				if right(a.Answer) {
					p.GoldArbitrationsCorrect++
				}
				st.People[a.Worker] = p
			}
			st.Gold++
			continue
		}
		st.Items++
		switch r.Method {
		case "arbitrated":
			st.Arbitrated++
		case "overlap":
			st.Overlap++
		default:
			st.Agreed++
		}
		if len(r.Annotations) >= 2 && typ != nil {
			sumAgreement += typ.Agreement(r.Annotations[0].Answer, r.Annotations[1].Answer)
		}
		for _, c := range r.Annotations {
			p := st.People[c.Worker]
			p.Answers++
			p.Seconds += int64(c.Seconds)
			right := typ != nil && label.Agree(typ, c.Answer, r.Final, 0)
			if right {
				p.Accepted++
			}
			if r.Method == "agreed" {
				p.FirstPassOK++
			} else {
				p.Disputed++
				if !right {
					p.Overruled++
				}
			}
			st.People[c.Worker] = p
		}
		if r.Arbitration != nil {
			p := st.People[r.Arbitration.Worker]
			p.Arbitrated++
			p.Seconds += int64(r.Arbitration.Seconds)
			st.People[r.Arbitration.Worker] = p
		}
	}
	if st.Items > 0 {
		st.Agreement = round4(sumAgreement / float64(st.Items))
	}
	return st
}

// CalibrationBin counts gold items whose would-be confidence fell in the bin, and how many of
// their would-be labels were right.
type CalibrationBin struct {
	Items   int `json:"items"`
	Correct int `json:"correct"`
}

func (c *ChunkStats) calibrate(confidence float64, correct bool) {
	b := min(int(confidence*10), 9)
	c.Calibration[b].Items++
	if correct {
		c.Calibration[b].Correct++
	}
}

// QualityReport is delivered with a project's results and printed by `project quality`.
type QualityReport struct {
	Project         string  `json:"project"`
	AnnotationType  string  `json:"annotation_type"`
	Items           int     `json:"items"`
	Agreed          int     `json:"agreed"`
	Arbitrated      int     `json:"arbitrated"`
	Overlap         int     `json:"settled_by_overlap"`
	ArbitrationRate float64 `json:"arbitration_rate"`
	Agreement       float64 `json:"agreement"` // mean over items
	FirstPassRate   float64 `json:"first_pass_acceptance"`
	GoldAccuracy    float64 `json:"gold_accuracy"` // share of gold answers that were right
	// Calibration: on gold items, the confidence a label would have been delivered with against
	// how often it was right, by tenths of confidence.
	Calibration    [10]CalibrationBin        `json:"calibration_on_gold"`
	SecondsPerTask float64                   `json:"seconds_per_task"`
	Chunks         []ChunkStats              `json:"chunks"`
	People         map[string]AnnotatorStats `json:"people"`
}

// QualityReportKey is the report's key in the platform store.
func QualityReportKey(project string) string {
	return fmt.Sprintf("projects/%s/quality-report.json", project)
}

// buildQualityReport sums the chunks' figures.
func (a *Activities) buildQualityReport(ctx context.Context, sp spec.Project, chunks int) (QualityReport, error) {
	r := QualityReport{Project: sp.ID, AnnotationType: sp.Annotation.Type, People: map[string]AnnotatorStats{}}
	agreement, answers, seconds := 0.0, 0, int64(0)
	for c := 0; c < chunks; c++ {
		var st ChunkStats
		if err := a.Store.GetJSON(ctx, StatsKey(sp.ID, c), &st); err != nil {
			return r, err
		}
		for w, p := range st.People {
			q := r.People[w]
			q.add(p)
			r.People[w] = q
			answers += p.tasks()
			seconds += p.Seconds
		}
		st.People = nil // summed per person above, not repeated per chunk
		r.Chunks = append(r.Chunks, st)
		for b := range st.Calibration {
			r.Calibration[b].Items += st.Calibration[b].Items
			r.Calibration[b].Correct += st.Calibration[b].Correct
		}
		r.Items += st.Items
		r.Agreed += st.Agreed
		r.Arbitrated += st.Arbitrated
		r.Overlap += st.Overlap
		agreement += st.Agreement * float64(st.Items)
	}
	if r.Items > 0 {
		r.Agreement = round4(agreement / float64(r.Items))
		r.ArbitrationRate = round4(float64(r.Arbitrated) / float64(r.Items))
		r.FirstPassRate = round4(float64(r.Agreed) / float64(r.Items))
	}
	if answers > 0 {
		r.SecondsPerTask = round4(float64(seconds) / float64(answers))
	}
	goldAnswers, goldCorrect := 0, 0
	for _, p := range r.People {
		goldAnswers += p.GoldAnswers
		goldCorrect += p.GoldCorrect
	}
	if goldAnswers > 0 {
		r.GoldAccuracy = round4(float64(goldCorrect) / float64(goldAnswers))
	}
	return r, nil
}

// QualityCSV renders the per-person part of a report.
func QualityCSV(r QualityReport) []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write([]string{"person", "answers", "accepted", "acceptance", "disputed", "overruled", "arbitrated", "gold_answers", "gold_accuracy", "seconds_per_task",
		"gold_arbitrations", "gold_arbitration_accuracy"})
	people := make([]string, 0, len(r.People))
	for p := range r.People {
		people = append(people, p)
	}
	sort.Strings(people)
	for _, id := range people {
		p := r.People[id]
		acc, per := 0.0, 0.0
		if p.Answers > 0 {
			acc = float64(p.Accepted) / float64(p.Answers)
		}
		if n := p.tasks(); n > 0 {
			per = float64(p.Seconds) / float64(n)
		}
		gold, goldArbitration := "", ""
		if p.GoldAnswers > 0 {
			gold = fmt.Sprintf("%.4f", float64(p.GoldCorrect)/float64(p.GoldAnswers))
		}
		if p.GoldArbitrations > 0 {
			goldArbitration = fmt.Sprintf("%.4f", float64(p.GoldArbitrationsCorrect)/float64(p.GoldArbitrations))
		}
		w.Write([]string{id, strconv.Itoa(p.Answers), strconv.Itoa(p.Accepted), fmt.Sprintf("%.4f", acc), strconv.Itoa(p.Disputed),
			strconv.Itoa(p.Overruled), strconv.Itoa(p.Arbitrated), strconv.Itoa(p.GoldAnswers), gold, fmt.Sprintf("%.1f", per),
			strconv.Itoa(p.GoldArbitrations), goldArbitration})
	}
	w.Flush()
	return b.Bytes()
}

// ScoreRecord is one person's record on one finished project, for one annotation type.
type ScoreRecord struct {
	Answers  int `json:"answers"`
	Accepted int `json:"accepted"`
}

// ScoreKey holds a person's record on a project. One object per (type, person, project): a
// project writes only its own, so projects finishing together never overwrite each other.
func ScoreKey(annotationType, worker, project string) string {
	return fmt.Sprintf("quality/scores/%s/%s/%s.json", annotationType, worker, project)
}

// minChunkAnswers is the fewest answers in a chunk for the chunk's own estimate of a person to
// count.
const minChunkAnswers = 20

// Prior of the accuracy estimate: a person without a record is assumed right 80% of the time, and
// that assumption weighs as much as 4 answers.
const (
	priorAccuracy = 0.8
	priorWeight   = 4.0
)

// accuracies estimates each annotator's accuracy for the project's type from their records on
// earlier projects: (prior weight × prior + accepted) / (prior weight + answers).
func (a *Activities) accuracies(ctx context.Context, sp spec.Project, results []ItemResult) (map[string]float64, error) {
	people := map[string]bool{}
	for _, r := range results {
		for _, c := range r.Annotations {
			people[c.Worker] = true
		}
	}
	// For single-label projects the chunk's own answers also speak: the hierarchical Dawid–Skene
	// model of `quality aggregate --method best` estimates each person's accuracy on this chunk,
	// weighed against their record by the number of answers behind each.
	var chunkSkill map[string]float64
	chunkAnswers := map[string]int{}
	if sp.Annotation.Type == label.SingleLabelName {
		var answers []aggregate.Answer
		for _, r := range results {
			for _, c := range r.Annotations {
				var class string
				if json.Unmarshal(c.Answer, &class) == nil {
					answers = append(answers, aggregate.Answer{Task: strconv.Itoa(r.Item), Worker: c.Worker, Label: class})
					chunkAnswers[c.Worker]++
				}
			}
		}
		if len(answers) > 0 {
			chunkSkill = aggregate.Best(answers).Skill
		}
	}
	out := map[string]float64{}
	// Reviewers weigh with their record of gold arbitrations where they have one; without one the
	// caller's reviewer default applies, not the newcomer prior of annotators.
	for _, r := range results {
		if r.Arbitration == nil || people[r.Arbitration.Worker] {
			continue
		}
		w := r.Arbitration.Worker
		if _, done := out[w]; done {
			continue
		}
		acc, n, err := a.Scores.estimate(ctx, a.Store, sp.Annotation.Type, w, sp.ID, quality.DefaultReviewerAccuracy)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			out[w] = acc
		}
	}
	for w := range people {
		acc, n, err := a.Scores.EstimatedAccuracy(ctx, a.Store, sp.Annotation.Type, w, sp.ID)
		if err != nil {
			return nil, err
		}
		// A person with a handful of answers in the chunk says little about their accuracy.
		if skill, ok := chunkSkill[w]; ok && chunkAnswers[w] >= minChunkAnswers {
			m := float64(chunkAnswers[w])
			acc = (acc*(priorWeight+float64(n)) + skill*m) / (priorWeight + float64(n) + m)
		}
		out[w] = acc
	}
	return out, nil
}

// EstimatedAccuracy is a person's estimated accuracy for an annotation type, from their records
// on projects other than exceptProject: (prior weight × prior + accepted) / (prior weight + answers).
// The second result is the number of answers behind the estimate.
func EstimatedAccuracy(ctx context.Context, s *store.Store, annotationType, worker, exceptProject string) (float64, int, error) {
	return (*ScoreCache)(nil).estimate(ctx, s, annotationType, worker, exceptProject, priorAccuracy)
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
	return c.estimate(ctx, s, annotationType, worker, exceptProject, priorAccuracy)
}

// estimate is (prior weight × prior + accepted) / (prior weight + answers) over a person's records
// on projects other than exceptProject.
func (c *ScoreCache) estimate(ctx context.Context, s *store.Store, annotationType, worker, exceptProject string, prior float64) (float64, int, error) {
	key := annotationType + "\x00" + worker + "\x00" + exceptProject
	if c != nil && c.TTL > 0 {
		c.mu.Lock()
		sum, ok := c.sums[key]
		c.mu.Unlock()
		if ok && time.Since(sum.at) < c.TTL {
			return (priorWeight*prior + float64(sum.accepted)) / (priorWeight + float64(sum.answers)), sum.answers, nil
		}
	}
	answers, accepted := 0, 0
	prefix := fmt.Sprintf("quality/scores/%s/%s/", annotationType, worker)
	err := s.List(ctx, prefix, func(key string, _ int64) error {
		if key == ScoreKey(annotationType, worker, exceptProject) {
			return nil // a project's own record is not evidence about it
		}
		var rec ScoreRecord
		if err := s.GetJSON(ctx, key, &rec); err != nil {
			return err
		}
		answers += rec.Answers
		accepted += rec.Accepted
		return nil
	})
	if err != nil {
		return 0, 0, err
	}
	if c != nil && c.TTL > 0 {
		c.mu.Lock()
		if c.sums == nil {
			c.sums = map[string]scoreSum{}
		}
		c.sums[key] = scoreSum{answers: answers, accepted: accepted, at: time.Now()}
		c.mu.Unlock()
	}
	return (priorWeight*prior + float64(accepted)) / (priorWeight + float64(answers)), answers, nil
}

// BonusKey holds a project's quality bonuses in the ledger of the month it completed.
func BonusKey(month, project string) string {
	return fmt.Sprintf("ledger/%s/%s/bonus.jsonl", month, project)
}

// payBonuses writes one ledger entry per person who earned the project's quality bonus. The key
// and bytes depend only on the project, its report and its completion, so a retry changes nothing.
func (a *Activities) payBonuses(ctx context.Context, sp spec.Project, r QualityReport, completed time.Time) error {
	b := sp.Pay.QualityBonus
	amount := sp.BonusAmount()
	if b.Amount == "" || amount <= 0 {
		return nil
	}
	month := completed.In(a.Months).Format("2006-01")
	people := make([]string, 0, len(r.People))
	for w := range r.People {
		people = append(people, w)
	}
	sort.Strings(people)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, w := range people {
		p := r.People[w]
		if p.GoldAnswers < max(1, b.MinGoldAnswers) || float64(p.GoldCorrect) < b.MinGoldAccuracy*float64(p.GoldAnswers) {
			continue
		}
		if err := enc.Encode(LedgerEntry{ID: fmt.Sprintf("%s/bonus/%s", sp.ID, w), Worker: w, Project: sp.ID, Item: "quality-bonus",
			Role: LedgerBonus, Amount: amount, Currency: sp.Pay.Currency, Month: month, AcceptedAt: completed.UTC()}); err != nil {
			return err
		}
	}
	if buf.Len() == 0 {
		return nil
	}
	return a.Store.Put(ctx, BonusKey(month, sp.ID), buf.Bytes())
}

// recordScores keeps each person's record on this project for later projects' estimates.
func (a *Activities) recordScores(ctx context.Context, sp spec.Project, r QualityReport) error {
	for w, p := range r.People {
		if p.Answers+p.GoldAnswers+p.GoldArbitrations == 0 {
			continue
		}
		// Gold answers are the surest evidence: they count with the known answer as the judge.
		// A reviewer's arbitrations of gold items are their only answers with a judge, so they
		// are the reviewer's record; other arbitrations, final by definition, say nothing.
		rec := ScoreRecord{
			Answers:  p.Answers + p.GoldAnswers + p.GoldArbitrations,
			Accepted: p.Accepted + p.GoldCorrect + p.GoldArbitrationsCorrect,
		}
		if err := a.Store.PutJSON(ctx, ScoreKey(sp.Annotation.Type, w, sp.ID), rec); err != nil {
			return err
		}
	}
	return nil
}
