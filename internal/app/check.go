package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/rs/zerolog"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/clientbucket"
	"github.com/labelflow/labelflow/internal/grant"
	"github.com/labelflow/labelflow/internal/logging"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/temporalconn"
	"github.com/labelflow/labelflow/workflows"
)

// Check is the outcome of one check of the live environment (`labelflow config --check`).
type Check struct {
	Name string
	// Err says why the check failed; nil when it passed.
	Err error
	// Skipped: the check could not run because one it depends on failed (Err says which).
	Skipped bool
	// Warning: the failure stops only some processes (a missing grant key stops the worker and
	// the gateway, not the commands of ops and finance), so it does not fail the whole check.
	Warning bool
}

// Failed reports a check that makes the environment unusable.
func (c Check) Failed() bool { return c.Err != nil && !c.Warning && !c.Skipped }

// checkTimeout bounds each call to a server, so that an address nobody answers on fails the
// check instead of hanging it.
const checkTimeout = 10 * time.Second

// CheckEnvironment checks, one by one, what App.Open and the processes need from the environment
// cfg describes: the platform store and its bucket, the delivery profiles and clients files, the
// keys the worker and the gateway need, Temporal, its namespace and LabelFlow's search attributes.
// Every check runs, so that one run lists every problem.
func CheckEnvironment(ctx context.Context, cfg config.Config, log zerolog.Logger) []Check {
	checks := checkStore(ctx, cfg)
	checks = append(checks, checkFiles(cfg)...)
	checks = append(checks, checkKeys(cfg)...)
	return append(checks, checkTemporal(ctx, cfg, log)...)
}

// checkStore checks that the platform store answers with these keys and holds the platform bucket.
func checkStore(ctx context.Context, cfg config.Config) []Check {
	reach := Check{Name: "object store " + cfg.StoreEndpoint + " answers"}
	bucket := Check{Name: "platform bucket " + cfg.StoreBucket + " exists"}
	st, err := store.New(store.Options{Endpoint: cfg.StoreEndpoint, AccessKey: cfg.StoreAccessKey, SecretKey: cfg.StoreSecretKey, Region: cfg.StoreRegion, Bucket: cfg.StoreBucket})
	if err != nil {
		reach.Err = err
		return []Check{reach, skipped(bucket, "the object store")}
	}
	cctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	ok, err := st.Client.BucketExists(cctx, cfg.StoreBucket)
	switch {
	case err != nil:
		reach.Err = fmt.Errorf("%w (check LABELFLOW_STORE_ENDPOINT and the access and secret keys)", err)
		return []Check{reach, skipped(bucket, "the object store")}
	case !ok:
		bucket.Err = errors.New("it does not; `labelflow worker` creates it when it starts, or create it yourself")
	}
	return []Check{reach, bucket}
}

// checkFiles checks the delivery profiles and clients files as Open reads them.
func checkFiles(cfg config.Config) []Check {
	profiles := Check{Name: "delivery profiles (LABELFLOW_DELIVERY_PROFILES)"}
	clientsFile := Check{Name: "clients file (LABELFLOW_CLIENTS)"}
	targets, err := clientbucket.LoadProfiles(cfg.DeliveryProfiles, clientbucket.Options{
		Embedded: cfg.Embedded(), DevKey: cfg.StoreAccessKey, DevSecret: cfg.StoreSecretKey, Egress: egressGuard(cfg)})
	if err != nil {
		profiles.Err = err
		return []Check{profiles, skipped(clientsFile, "the delivery profiles")}
	}
	_, clientsFile.Err = loadClients(cfg, targets)
	return []Check{profiles, clientsFile}
}

// checkKeys checks the keys the worker and the gateway cannot start without. Hosts that run
// neither leave them unset, so a missing key is a warning; a malformed one fails.
func checkKeys(cfg config.Config) []Check {
	grants := Check{Name: "grant keys (LABELFLOW_GRANT_KEYS), for the worker and the gateway"}
	if grants.Err = config.Require("LABELFLOW_GRANT_KEYS", cfg.GrantKeys); grants.Err != nil {
		grants.Warning = true
	} else if _, err := grant.ParseKeys(cfg.GrantKeys, !cfg.Embedded()); err != nil {
		grants.Err = err
	}
	pepper := Check{Name: "token pepper (LABELFLOW_TOKEN_PEPPER), for the gateway and workforce commands"}
	if pepper.Err = config.Require("LABELFLOW_TOKEN_PEPPER", cfg.TokenPepper); pepper.Err != nil {
		pepper.Warning = true
	}
	return []Check{grants, pepper}
}

// checkTemporal checks the connection settings, then that Temporal answers, knows the namespace,
// and has LabelFlow's search attributes (without them no project can start).
func checkTemporal(ctx context.Context, cfg config.Config, log zerolog.Logger) []Check {
	conn := checkConnection(cfg)
	payloads := checkPayloads(cfg)
	reach := Check{Name: "Temporal " + cfg.TemporalAddress + " answers"}
	ns := Check{Name: "namespace " + cfg.TemporalNamespace + " is known"}
	attrs := Check{Name: "search attributes " + strings.Join(searchAttributes, ", ") + " are Keyword"}
	opts, err := temporalconn.ClientOptions(cfg)
	if err != nil {
		reach.Err = err
		return []Check{conn, payloads, reach, skipped(ns, "Temporal"), skipped(attrs, "Temporal")}
	}
	opts.Logger = logging.NewTemporal(log)
	dctx, cancel := context.WithTimeout(ctx, checkTimeout)
	defer cancel()
	c, err := client.DialContext(dctx, opts)
	if err != nil {
		reach.Err = err
		return []Check{conn, payloads, reach, skipped(ns, "Temporal"), skipped(attrs, "Temporal")}
	}
	defer c.Close()
	if _, err := c.WorkflowService().DescribeNamespace(dctx, &workflowservice.DescribeNamespaceRequest{Namespace: cfg.TemporalNamespace}); err != nil {
		ns.Err = fmt.Errorf("%w (`labelflow setup` creates it)", err)
		return []Check{conn, payloads, reach, ns, skipped(attrs, "the namespace")}
	}
	attrs.Err = checkSearchAttributes(dctx, c, cfg.TemporalNamespace)
	return []Check{conn, payloads, reach, ns, attrs}
}

// checkConnection checks the TLS files and says how the connection is secured. A production
// stack on a plaintext connection is warned about: anyone on the path could read histories.
func checkConnection(cfg config.Config) Check {
	c := Check{Name: "Temporal connection: " + connectionKind(cfg.Temporal)}
	if _, err := temporalconn.TLSConfig(cfg.Temporal); err != nil {
		c.Err = err
		return c
	}
	if !cfg.TemporalTLS && !cfg.Embedded() {
		c.Err, c.Warning = errors.New("plaintext on a production stack: set LABELFLOW_TEMPORAL_TLS=true unless the network is private"), true
	}
	return c
}

func connectionKind(t config.Temporal) string {
	switch {
	case !t.TemporalTLS:
		return "plaintext"
	case t.TemporalAPIKey != "":
		return "TLS with an API key"
	case t.TemporalTLSCert != "":
		return "mutual TLS"
	}
	return "TLS"
}

// checkPayloads checks the payload keys and says whether histories are encrypted.
func checkPayloads(cfg config.Config) Check {
	c := Check{Name: "payload encryption"}
	codec, err := temporalconn.Codec(cfg)
	switch {
	case err != nil:
		c.Err = err
	case codec != nil:
		c.Name += ": on, new payloads sealed with key " + codec.EncryptingKey()
	case cfg.Embedded():
		c.Name += ": off (the embedded stack, no LABELFLOW_PAYLOAD_KEYS)"
	default:
		c.Name += ": off"
		c.Err, c.Warning = errors.New("LABELFLOW_PAYLOAD_PLAINTEXT=true: histories hold answers and worker ids in clear"), true
	}
	return c
}

// SearchAttributes names LabelFlow's custom search attributes, all Keyword: `labelflow setup`
// registers them.
func SearchAttributes() []string { return slices.Clone(searchAttributes) }

// searchAttributes are the custom search attributes LabelFlow's workflows set.
var searchAttributes = []string{workflows.SearchAttrProject, workflows.SearchAttrClient, workflows.SearchAttrStage}

func checkSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return err
	}
	var missing []string
	for _, name := range searchAttributes {
		if resp.GetCustomAttributes()[name] != enumspb.INDEXED_VALUE_TYPE_KEYWORD {
			missing = append(missing, name)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	return fmt.Errorf("%s not registered as Keyword in namespace %s (`labelflow setup` registers them)", strings.Join(missing, ", "), namespace)
}

// skipped is c, not run because the check of what it needs failed.
func skipped(c Check, needs string) Check {
	c.Skipped, c.Err = true, fmt.Errorf("not checked: needs %s", needs)
	return c
}
