package app

import (
	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/clientbucket"
	"github.com/labelflow/labelflow/internal/clients"
	"github.com/labelflow/labelflow/internal/egress"
	"github.com/labelflow/labelflow/internal/spec"
)

// egressGuard is the rule for outbound calls to client endpoints: private addresses only on the
// embedded stack, or where ops allow them (LABELFLOW_EGRESS_ALLOW_PRIVATE).
func egressGuard(cfg config.Config) egress.Guard {
	return egress.Guard{AllowPrivate: cfg.EgressAllowPrivate || cfg.Embedded()}
}

// loadClients reads the clients file (the built-in dev clients on the embedded stack without one)
// and checks that every profile and webhook secret it names exists.
func loadClients(cfg config.Config, targets *clientbucket.Profiles) (*clients.Registry, error) {
	reg, err := clients.Load(cfg.Clients, cfg.StoreBucket, cfg.Embedded())
	if err != nil {
		return nil, err
	}
	if err := reg.CheckReferences(targets.Names(), targets.SecretNames()); err != nil {
		return nil, err
	}
	return reg, nil
}

// Boundary is what projects of this stack may reach.
func (a *App) Boundary() spec.Boundary {
	b := spec.Boundary{Clients: a.Clients, PlatformBucket: a.Cfg.StoreBucket, Egress: egressGuard(a.Cfg)}
	if a.Cfg.Embedded() {
		b.DevEndpoint = a.Cfg.StoreEndpoint
	}
	return b
}

// ParseSpec reads a spec file's content and checks it against the boundary, so that every field
// reaching outside its client is reported with its line, with the spec's other problems.
func (a *App) ParseSpec(file string, data []byte) (spec.Project, error) {
	return spec.ParseWithin(file, data, a.Boundary())
}
