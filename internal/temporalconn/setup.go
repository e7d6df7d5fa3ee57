package temporalconn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"
)

// SetupOptions say what `labelflow setup` makes sure of.
type SetupOptions struct {
	Namespace string
	// Retention is how long closed workflows' histories are kept, for a namespace Setup creates.
	Retention time.Duration
	// SearchAttributes are LabelFlow's custom search attributes, all Keyword.
	SearchAttributes []string
	// Settle bounds the wait for a namespace just created to be served, and for added search
	// attributes to be listed.
	Settle time.Duration
}

// Step is one thing Setup found or did.
type Step struct {
	What    string
	Changed bool
}

// Setup creates the namespace unless it exists and registers each search attribute it lacks.
// Run again, it changes nothing. It returns what it found and did, in order, also on failure.
func Setup(ctx context.Context, c client.Client, o SetupOptions) ([]Step, error) {
	ns, err := ensureNamespace(ctx, c, o)
	steps := []Step{ns}
	if err != nil {
		return steps, err
	}
	attrs, err := ensureSearchAttributes(ctx, c, o, ns.Changed)
	return append(steps, attrs...), err
}

func ensureNamespace(ctx context.Context, c client.Client, o SetupOptions) (Step, error) {
	_, err := c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: o.Namespace})
	var notFound *serviceerror.NamespaceNotFound
	switch {
	case err == nil:
		return Step{What: "namespace " + o.Namespace + " exists"}, nil
	case !errors.As(err, &notFound):
		return Step{What: "namespace " + o.Namespace}, fmt.Errorf("describe namespace %s: %w", o.Namespace, err)
	}
	_, err = c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
		Namespace:                        o.Namespace,
		Description:                      "LabelFlow",
		WorkflowExecutionRetentionPeriod: durationpb.New(o.Retention),
	})
	var exists *serviceerror.NamespaceAlreadyExists
	switch {
	case errors.As(err, &exists):
		return Step{What: "namespace " + o.Namespace + " exists"}, nil
	case err != nil:
		return Step{What: "namespace " + o.Namespace}, fmt.Errorf("create namespace %s: %w%s", o.Namespace, err, hint(err))
	}
	return Step{What: fmt.Sprintf("namespace %s created (retention %s)", o.Namespace, o.Retention), Changed: true}, nil
}

func ensureSearchAttributes(ctx context.Context, c client.Client, o SetupOptions, fresh bool) ([]Step, error) {
	have, err := listAttributes(ctx, c, o, fresh)
	if err != nil {
		return nil, err
	}
	var steps []Step
	add := map[string]enumspb.IndexedValueType{}
	for _, name := range o.SearchAttributes {
		switch t, ok := have[name]; {
		case !ok:
			add[name] = enumspb.INDEXED_VALUE_TYPE_KEYWORD
		case t == enumspb.INDEXED_VALUE_TYPE_KEYWORD:
			steps = append(steps, Step{What: "search attribute " + name + " is Keyword"})
		default:
			return steps, fmt.Errorf("search attribute %s is registered as %s in namespace %s, LabelFlow needs Keyword: remove it (temporal operator search-attribute remove --name %s) or use another namespace", name, t, o.Namespace, name)
		}
	}
	if len(add) == 0 {
		return steps, nil
	}
	err = retry(ctx, o.Settle, func() error {
		_, err := c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{Namespace: o.Namespace, SearchAttributes: add})
		var exists *serviceerror.AlreadyExists
		if errors.As(err, &exists) {
			return nil // registered meanwhile by another setup
		}
		return err
	})
	if err != nil {
		return steps, fmt.Errorf("add search attributes %s to namespace %s: %w%s", strings.Join(sortedNames(add), ", "), o.Namespace, err, hint(err))
	}
	if err := waitListed(ctx, c, o, add); err != nil {
		return steps, err
	}
	for _, name := range sortedNames(add) {
		steps = append(steps, Step{What: "search attribute " + name + " added as Keyword", Changed: true})
	}
	return steps, nil
}

// listAttributes lists the namespace's custom search attributes; a namespace just created may
// take the frontend a few seconds to serve.
func listAttributes(ctx context.Context, c client.Client, o SetupOptions, fresh bool) (map[string]enumspb.IndexedValueType, error) {
	var have map[string]enumspb.IndexedValueType
	list := func() error {
		resp, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: o.Namespace})
		have = resp.GetCustomAttributes()
		return err
	}
	var err error
	if fresh {
		err = retry(ctx, o.Settle, list)
	} else {
		err = list()
	}
	if err != nil {
		return nil, fmt.Errorf("list search attributes of namespace %s: %w%s", o.Namespace, err, hint(err))
	}
	return have, nil
}

// waitListed waits until every added attribute is listed, so that what runs next (a check, a
// project launch) sees them.
func waitListed(ctx context.Context, c client.Client, o SetupOptions, added map[string]enumspb.IndexedValueType) error {
	return retry(ctx, o.Settle, func() error {
		have, err := listAttributes(ctx, c, o, false)
		if err != nil {
			return err
		}
		for name := range added {
			if have[name] != enumspb.INDEXED_VALUE_TYPE_KEYWORD {
				return fmt.Errorf("search attribute %s added but not yet listed", name)
			}
		}
		return nil
	})
}

// retry calls fn until it succeeds, fails for a reason waiting cannot fix, or settle passes.
func retry(ctx context.Context, settle time.Duration, fn func() error) error {
	deadline := time.Now().Add(settle)
	for wait := 200 * time.Millisecond; ; wait = min(2*wait, 2*time.Second) {
		err := fn()
		if err == nil || !transient(err) || time.Now().Add(wait).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(wait):
		}
	}
}

// transient errors are those of a namespace the frontend does not serve yet, or of a server
// catching up.
func transient(err error) bool {
	var notFound *serviceerror.NamespaceNotFound
	var unavailable *serviceerror.Unavailable
	var plainNotFound *serviceerror.NotFound
	return errors.As(err, &notFound) || errors.As(err, &unavailable) || errors.As(err, &plainNotFound) || strings.Contains(err.Error(), "not yet listed")
}

// hint says what to do about a refusal that needs rights this connection lacks.
func hint(err error) string {
	var denied *serviceerror.PermissionDenied
	var unimplemented *serviceerror.Unimplemented
	if errors.As(err, &denied) || errors.As(err, &unimplemented) {
		return " (on Temporal Cloud, namespaces and search attributes are made with tcld or the Cloud UI; elsewhere, this needs an admin's credentials)"
	}
	return ""
}

func sortedNames(m map[string]enumspb.IndexedValueType) []string {
	var out []string
	for name := range m {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}
