package gateway

import (
	"context"
	"time"

	"github.com/labelflow/labelflow/internal/layout"
)

// Expired sessions are deleted a whole day at a time: their keys start with the day they expire.
// A gateway sweeps at most once an hour, in the background of a sign-in, the days that ended in
// the last sweepDays; a day missed (no sign-in for a month) stays until deleted by hand or by a
// lifecycle rule on the prefix.

const (
	sweepEvery = time.Hour
	sweepDays  = 31
	sweepTime  = time.Minute
)

// sweepSessionsNow starts a sweep unless one ran within sweepEvery.
func (g *Gateway) sweepSessionsNow() {
	g.mu.Lock()
	due := time.Since(g.sweptAt) >= sweepEvery
	if due {
		g.sweptAt = time.Now()
	}
	g.mu.Unlock()
	if !due {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), sweepTime)
		defer cancel()
		if n, err := g.sweepSessions(ctx, time.Now().UTC()); err != nil {
			g.log.Warn().Err(err).Int("deleted", n).Msg("expired sessions not all deleted; the next sweep tries again")
		}
	}()
}

// sweepSessions deletes the sessions of the sweepDays days before today's; sessions expiring
// today may still be live and are left for tomorrow.
func (g *Gateway) sweepSessions(ctx context.Context, now time.Time) (int, error) {
	deleted := 0
	for d := 1; d <= sweepDays; d++ {
		day := now.AddDate(0, 0, -d).Format(sessionDay)
		var keys []string
		err := g.app.Store.List(ctx, layout.SessionDayPrefix(day), func(key string, _ int64) error {
			keys = append(keys, key)
			return nil
		})
		if err != nil {
			return deleted, err
		}
		for _, k := range keys {
			if err := g.app.Store.Delete(ctx, k); err != nil {
				return deleted, err
			}
			deleted++
		}
	}
	return deleted, nil
}
