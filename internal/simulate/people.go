package simulate

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/workforce"
	"github.com/labelflow/labelflow/workflows"
)

// Simulated people sign in and are recorded in the ledger like people, so they exist only where
// they are allowed (the embedded stack, or a run that names them explicitly), are marked as
// simulated in the roster, hold random tokens that only the simulator's memory keeps, and leave
// the roster when the simulation ends.

// Permit allows registering simulated people; only Allow gives one.
type Permit struct{ granted bool }

// ErrNotAllowed refuses simulated people where they are not allowed.
var ErrNotAllowed = errors.New("simulated people are not allowed here")

// Allow gives a Permit on the embedded stack, or anywhere when explicitly is set (the
// --allow-simulated-people flag).
func Allow(cfg config.Config, explicitly bool) (Permit, error) {
	if cfg.Embedded() || explicitly {
		return Permit{granted: true}, nil
	}
	return Permit{}, fmt.Errorf("%w: LABELFLOW_STACK is %s, and simulated people would sign in and work like people there; "+
		"run the simulator on the embedded stack, or pass --allow-simulated-people to let this run register them "+
		"(they leave the roster when it ends, and payroll never pays them on a production stack)", ErrNotAllowed, cfg.Stack)
}

// Person is a simulated worker with the token the simulator uses for them.
type Person struct {
	workforce.Person
	Token string
}

// Crowd returns the simulated people of a project, each with a new random token. Ids derive from
// the project, so that people of a second run on it keep one record of their work.
func Crowd(o Options) ([]Person, error) {
	var out []Person
	add := func(role string, n int) error {
		for i := 1; i <= n; i++ {
			id := fmt.Sprintf("sim-%s-%s-%02d", o.Project, role[:1], i)
			country := o.Country
			if country == "" {
				country = []string{"KE", "UG", "RW", "NG", "GH", "ET"}[i%6]
			}
			method := "mobile-money"
			if i%3 == 0 {
				method = "bank-transfer"
			}
			token, err := workforce.NewToken()
			if err != nil {
				return err
			}
			out = append(out, Person{Person: workforce.Person{ID: id, Name: fmt.Sprintf("Simulated %s %d", role, i), Country: country, Role: role,
				Skills: o.Skills, Languages: o.Languages, PayoutMethod: method, Simulated: true}, Token: token})
		}
		return nil
	}
	if err := add(workflows.RoleAnnotator, o.Annotators); err != nil {
		return nil, err
	}
	if err := add(workflows.RoleReviewer, o.Reviewers); err != nil {
		return nil, err
	}
	return out, nil
}

// Register writes the crowd to the roster, marked simulated, with their tokens. It refuses without
// a Permit, and refuses to replace a person who is not simulated.
func Register(ctx context.Context, permit Permit, r workforce.Roster, crowd []Person) error {
	if !permit.granted {
		return ErrNotAllowed
	}
	if len(r.Pepper) == 0 {
		return workforce.ErrNoPepper
	}
	people := make([]workforce.Person, len(crowd))
	for i, c := range crowd {
		old, err := r.Get(ctx, c.ID)
		switch {
		case err == nil && !old.Simulated:
			return fmt.Errorf("the roster has a person %s who is not simulated; the simulator leaves them alone", c.ID)
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return err
		}
		people[i] = c.Person
		people[i].Simulated = true
		people[i].TokenHash = r.TokenHash(c.Token)
	}
	return r.Save(ctx, people)
}

// Unregister removes the crowd's people and tokens from the roster. Only people marked simulated
// are removed.
func Unregister(ctx context.Context, r workforce.Roster, crowd []Person) error {
	var errs []error
	for _, c := range crowd {
		p, err := r.Get(ctx, c.ID)
		if errors.Is(err, store.ErrNotFound) || err == nil && !p.Simulated {
			continue
		}
		if err == nil {
			err = r.Remove(ctx, c.ID)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.ID, err))
		}
	}
	return errors.Join(errs...)
}

// Simulate registers a crowd for o.Project, lets it work through the gateway until the project
// offers no more work, and removes it from the roster again, whether the run ends, fails or is
// interrupted. started, when set, is told the crowd once it is registered.
func Simulate(ctx context.Context, permit Permit, r workforce.Roster, st *store.Store, o Options, started func([]Person)) (stats Stats, err error) {
	if !permit.granted {
		return stats, ErrNotAllowed
	}
	crowd, err := Crowd(o)
	if err != nil {
		return stats, err
	}
	defer func() {
		// The run's context may be over (an interrupt): the roster is cleaned up all the same.
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		if uerr := Unregister(cctx, r, crowd); uerr != nil {
			err = errors.Join(err, fmt.Errorf("remove the simulated people from the roster: %w", uerr))
		}
	}()
	if err := Register(ctx, permit, r, crowd); err != nil {
		return stats, err
	}
	if started != nil {
		started(crowd)
	}
	return Run(ctx, o, st, crowd)
}
