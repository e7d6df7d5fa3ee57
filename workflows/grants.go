package workflows

import (
	"encoding/json"
	"sync/atomic"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/labelflow/labelflow/internal/grant"
)

// ErrUnauthenticated rejects a request whose identity LabelFlow did not seal.
const ErrUnauthenticated = "Unauthenticated"

// ActionStart is the grant action of a project launch (a workflow start, not an Update).
const ActionStart = "start"

// grantKeys verify the seals on human requests. They are set once when the worker starts.
// Validators read them, and validators never run on replay (the SDK records the accepted Update
// instead), so a key rotation cannot change a replayed history. The launch check, which runs in
// workflow code, records its verdict with a side effect for the same reason.
var grantKeys atomic.Pointer[grant.Keys]

// UseGrantKeys sets the keys that workflows verify seals with.
func UseGrantKeys(k *grant.Keys) { grantKeys.Store(k) }

// sealable is a request that travels with the seal of the person who made it.
type sealable[T any] interface {
	sealOf() *grant.Seal
	withSeal(*grant.Seal) T
}

// Seal signs req for the Update (or start) action of workflowID. The gateway and the API call it
// after they have established who the person is from LabelFlow's own records.
func Seal[T sealable[T]](k *grant.Keys, workflowID, action string, req T, now time.Time) (T, error) {
	body, err := json.Marshal(req.withSeal(nil))
	if err != nil {
		return req, err
	}
	s := k.Sign(grant.Target{Workflow: workflowID, Action: action}, body, now)
	return req.withSeal(&s), nil
}

// verifySeal is the first check of every validator of a human request.
func verifySeal[T sealable[T]](ctx workflow.Context, action string, req T) error {
	if err := checkSeal(workflow.GetInfo(ctx).WorkflowExecution.ID, action, req, workflow.Now(ctx)); err != nil {
		return appErr(ErrUnauthenticated, "%s refused: %v", action, err)
	}
	return nil
}

// checkSeal reads no clock and no global state that changes: json.Marshal of these structs is
// deterministic (struct fields in order), and the HMAC is a pure function of the keys and input.
//
//workflowcheck:ignore
func checkSeal[T sealable[T]](workflowID, action string, req T, now time.Time) error {
	body, err := json.Marshal(req.withSeal(nil))
	if err != nil {
		return err
	}
	return grantKeys.Load().Verify(grant.Target{Workflow: workflowID, Action: action}, body, req.sealOf(), now)
}

func (r ClaimRequest) sealOf() *grant.Seal { return r.Seal }
func (r ClaimRequest) withSeal(s *grant.Seal) ClaimRequest {
	r.Seal = s
	return r
}

func (r SubmitRequest) sealOf() *grant.Seal { return r.Seal }
func (r SubmitRequest) withSeal(s *grant.Seal) SubmitRequest {
	r.Seal = s
	return r
}

func (r ReleaseRequest) sealOf() *grant.Seal { return r.Seal }
func (r ReleaseRequest) withSeal(s *grant.Seal) ReleaseRequest {
	r.Seal = s
	return r
}

func (r HeartbeatRequest) sealOf() *grant.Seal { return r.Seal }
func (r HeartbeatRequest) withSeal(s *grant.Seal) HeartbeatRequest {
	r.Seal = s
	return r
}

func (r ApproveRequest) sealOf() *grant.Seal { return r.Seal }
func (r ApproveRequest) withSeal(s *grant.Seal) ApproveRequest {
	r.Seal = s
	return r
}

func (r HoldRequest) sealOf() *grant.Seal { return r.Seal }
func (r HoldRequest) withSeal(s *grant.Seal) HoldRequest {
	r.Seal = s
	return r
}

func (in ProjectInput) sealOf() *grant.Seal { return in.Seal }
func (in ProjectInput) withSeal(s *grant.Seal) ProjectInput {
	in.Seal = s
	return in
}

func (in ChunkInput) sealOf() *grant.Seal { return in.Seal }
func (in ChunkInput) withSeal(s *grant.Seal) ChunkInput {
	in.Seal = s
	return in
}
