// Package role names the roles a person of the roster may have. Annotators and reviewers do the
// work, finance pays it, ops launch projects. Every package that checks a role names it here; the
// package depends on nothing, so that the roster, specs and workflows alike can.
package role

// Roles of the roster.
const (
	Annotator = "annotator"
	Reviewer  = "reviewer"
	Finance   = "finance"
	Ops       = "ops"
)

// All lists every role a person may have.
var All = []string{Annotator, Reviewer, Finance, Ops}
