package gateway

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/labelflow/labelflow/internal/earnings"
	"github.com/labelflow/labelflow/internal/layout"
	"github.com/labelflow/labelflow/internal/spec"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/workforce"
	"github.com/labelflow/labelflow/workflows"
)

// The work feed: the projects a person may work on now, with what they pay and how the person
// does on that kind of work. The list of projects comes from Temporal's visibility and is shared
// by everyone for the status cache's TTL, so that a crowd opening the feed costs one listing.

// FeedProject is one project in a person's feed.
type FeedProject struct {
	ID             string   `json:"id"`
	AnnotationType string   `json:"annotation_type"`
	Taxonomy       []string `json:"taxonomy"`
	Instructions   string   `json:"instructions"`
	Stage          string   `json:"stage"`
	Paused         bool     `json:"paused"`
	// ItemsLeft counts the items of chunks not yet finished: work may remain on them.
	ItemsLeft  int      `json:"items_left"`
	Kind       string   `json:"kind"`
	Pay        *Money   `json:"pay"`
	MyAccuracy *float64 `json:"my_accuracy"`
}

// Money is an amount as a statement shows it.
type Money struct {
	Minor    int64  `json:"minor"`
	Currency string `json:"currency"`
	Text     string `json:"text"`
}

func moneyOf(minor int64, currency string) Money {
	return Money{Minor: minor, Currency: currency, Text: earnings.FormatMinor(minor, currency)}
}

// FeedAnswer is the feed, and when to look again.
type FeedAnswer struct {
	Projects   []FeedProject `json:"projects"`
	RetryAfter int           `json:"retry_after_seconds"`
}

// feedRetry is when a person with an empty feed should look again.
const feedRetry = 30

// maxFeedProjects bounds the projects one feed looks at.
const maxFeedProjects = 50

func (g *Gateway) feedRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /v1/projects", g.auth(g.feed))
	mux.HandleFunc("GET /v1/me/earnings", g.auth(g.earnings))
	mux.HandleFunc("GET /v1/media/{project}/{chunk}/{item}", g.auth(g.media))
}

func (g *Gateway) feed(w http.ResponseWriter, r *http.Request, p workforce.Person) {
	if p.Role != workflows.RoleAnnotator && p.Role != workflows.RoleReviewer {
		writeJSON(w, http.StatusOK, FeedAnswer{Projects: []FeedProject{}, RetryAfter: feedRetry})
		return
	}
	ctx := r.Context()
	ids, err := g.openProjects(ctx)
	if err != nil {
		g.fail(w, err)
		return
	}
	rates := g.monthRates(ctx)
	out := []FeedProject{}
	for _, id := range ids {
		fp, ok, err := g.feedProject(ctx, id, p, rates)
		if err != nil {
			g.log.Warn().Err(err).Str("project", id).Msg("project left out of a feed")
			continue
		}
		if ok {
			out = append(out, fp)
		}
	}
	writeJSON(w, http.StatusOK, FeedAnswer{Projects: out, RetryAfter: feedRetry})
}

// feedProject is project id as p sees it in their feed; false when p may not work on it.
func (g *Gateway) feedProject(ctx context.Context, id string, p workforce.Person, rates *earnings.Rates) (FeedProject, bool, error) {
	sp, err := g.spec(ctx, id)
	if err != nil {
		return FeedProject{}, false, err
	}
	if !qualifiedFor(sp, p) {
		return FeedProject{}, false, nil
	}
	st, err := g.projectState(ctx, id)
	if err != nil {
		return FeedProject{}, false, err
	}
	if !open(st.Stage) || st.Cancelled != nil {
		return FeedProject{}, false, nil
	}
	fp := FeedProject{ID: id, AnnotationType: sp.Annotation.Type, Taxonomy: sp.Annotation.Taxonomy,
		Instructions: sp.Annotation.Instructions, Stage: st.Stage, Paused: paused(st),
		ItemsLeft: max(0, st.Items-st.Done.Items), Kind: workflows.KindAnnotate}
	perAnnotation, perArbitration := sp.Rates()
	rate := perAnnotation
	if p.Role == workflows.RoleReviewer {
		fp.Kind, rate = workflows.KindArbitrate, perArbitration
	}
	if pay, ok := payIn(rate, sp.Pay.Currency, p.Currency(), rates); ok {
		fp.Pay = &pay
	}
	if acc, n, err := g.app.Scores.EstimatedAccuracy(ctx, g.app.Store, sp.Annotation.Type, p.ID, ""); err == nil && n > 0 {
		fp.MyAccuracy = &acc
	}
	return fp, true, nil
}

// qualifiedFor mirrors the chunks' own check (the chunk has the last word): the skills a project
// requires, and one of its languages.
func qualifiedFor(sp spec.Project, p workforce.Person) bool {
	for _, s := range sp.RequiredSkills {
		if !slices.Contains(p.Skills, s) {
			return false
		}
	}
	return len(sp.Languages) == 0 || slices.ContainsFunc(sp.Languages, func(l string) bool { return slices.Contains(p.Languages, l) })
}

// payIn is a rate in the person's currency at this month's rates, as their statement will show
// it; in the project's currency when the month has no rate for it yet.
func payIn(minor int64, from, to string, rates *earnings.Rates) (Money, bool) {
	if from == "" {
		return Money{}, false
	}
	if to == "" || to == from {
		return moneyOf(minor, from), true
	}
	if rates != nil {
		if v, err := rates.Convert(minor, from, to); err == nil {
			return moneyOf(v, to), true
		}
	}
	return moneyOf(minor, from), true
}

// monthRates reads this month's exchange rates; nil when finance has not uploaded them. Every
// feed and earnings page shows pay at them, so one read serves everyone for monthScanTTL.
func (g *Gateway) monthRates(ctx context.Context) *earnings.Rates {
	month := time.Now().UTC().Format("2006-01")
	g.mu.Lock()
	c := g.rates
	g.mu.Unlock()
	if c.month == month && time.Since(c.at) < monthScanTTL {
		return c.rates
	}
	rates := g.readRates(ctx, layout.RatesKey(month))
	g.mu.Lock()
	g.rates = cachedRates{month: month, at: time.Now(), rates: rates}
	g.mu.Unlock()
	return rates
}

// cachedRates are a month's exchange rates as last read.
type cachedRates struct {
	month string
	at    time.Time
	rates *earnings.Rates
}

func (g *Gateway) readRates(ctx context.Context, key string) *earnings.Rates {
	data, err := g.app.Store.Get(ctx, key)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			g.log.Warn().Err(err).Msg("exchange rates unreadable; pay shown in project currencies")
		}
		return nil
	}
	rates, err := earnings.ReadRates(key, bytes.NewReader(data))
	if err != nil {
		g.log.Warn().Err(err).Msg("exchange rates unreadable; pay shown in project currencies")
		return nil
	}
	return rates
}

// openProjects lists the projects that may offer work, shared by all feeds for the status
// cache's TTL.
func (g *Gateway) openProjects(ctx context.Context) ([]string, error) {
	if ids, ok := g.listedProjects(); ok {
		return ids, nil
	}
	// One listing at a time: a crowd whose feeds fall due together waits for it, not for one each.
	g.feedFill.Lock()
	defer g.feedFill.Unlock()
	if ids, ok := g.listedProjects(); ok {
		return ids, nil
	}
	all, err := g.app.ListProjects(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, s := range all {
		if s.Status == runningStatus && open(s.Stage) && spec.ValidID(s.ID) && len(ids) < maxFeedProjects {
			ids = append(ids, s.ID)
		}
	}
	g.mu.Lock()
	g.feedIDs, g.feedAt = ids, time.Now()
	g.mu.Unlock()
	return ids, nil
}

// listedProjects are the open projects as last listed, while younger than the status cache's TTL.
func (g *Gateway) listedProjects() ([]string, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.feedIDs, !g.feedAt.IsZero() && time.Since(g.feedAt) < g.app.Cfg.StatusCacheTTL
}

// runningStatus is how visibility names a running workflow.
var runningStatus = enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING.String()

// paused reports a project ops paused: it offers no work until resumed.
func paused(st workflows.ProjectStatus) bool { return st.Paused != nil }
