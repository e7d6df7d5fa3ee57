package codec_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	commonpb "go.temporal.io/api/common/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/worker"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/codec"
	"github.com/labelflow/labelflow/internal/demo"
	"github.com/labelflow/labelflow/internal/devstack/devstacktest"
	"github.com/labelflow/labelflow/internal/temporalconn"
	"github.com/labelflow/labelflow/workers"
	"github.com/labelflow/labelflow/workflows"
)

// A whole project, payroll included, on the embedded stack with payload encryption on: no history
// names a person who worked or a class they chose, though decrypted they do; and every history
// replays with the codec.
func TestHistoriesHoldNoClientDataInClear(t *testing.T) {
	bin := devstacktest.Binaries(t)
	cfg, err := config.Load()
	if err != nil {
		t.Fatal(err)
	}
	cfg.BinDir = bin
	cfg.PayloadKeys = "it-1:" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{42}, codec.KeySize))
	cfg = demo.LiftLimitsForSimulatedCrowd(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	env, err := demo.Start(ctx, cfg, demo.StackOptions{DataDir: t.TempDir(), Headless: true}, zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	defer env.Stop()
	sum, err := demo.Run(ctx, env, demo.RunOptions{ProjectID: "sealed", Items: 40, Annotators: 4, Reviewers: 2, Accuracy: 0.7,
		Seed: 11, ChunkSize: 20, Lease: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Delivered == 0 || sum.People == 0 {
		t.Fatalf("the project did not run through: %+v", sum)
	}

	secrets := append([]string{demo.FinanceDemo.ID, demo.OpsDemo.ID}, demo.Taxonomy...)
	for _, p := range sum.Simulated {
		secrets = append(secrets, p.ID)
	}
	c, err := temporalconn.Codec(env.Cfg)
	if err != nil {
		t.Fatal(err)
	}
	histories := allHistories(ctx, t, env)
	var clear, decrypted [][]byte
	encrypted := 0
	for _, h := range histories {
		raw, _ := proto.Marshal(h)
		clear = append(clear, raw)
		n, opened := decryptAll(t, c, h)
		encrypted += n
		decrypted = append(decrypted, opened)
	}
	if encrypted == 0 {
		t.Fatal("no encrypted payload in any history")
	}
	t.Logf("%d histories, %d encrypted payloads, %d secrets looked for", len(histories), encrypted, len(secrets))
	for _, s := range secrets {
		if found(clear, s) {
			t.Errorf("a history holds %q in clear", s)
		}
	}
	// The search above would have found them: decrypted, the histories name the people who worked,
	// the finance person who approved, and the classes.
	worked := 0
	for _, p := range sum.Simulated {
		if found(decrypted, p.ID) {
			worked++
		}
	}
	if worked == 0 {
		t.Error("decrypted histories name none of the crowd either: the search proves nothing")
	}
	for _, s := range []string{demo.FinanceDemo.ID, demo.Taxonomy[0]} {
		if !found(decrypted, s) {
			t.Errorf("decrypted histories do not hold %q either: the search proves nothing", s)
		}
	}

	cliShowsDecodedHistory(ctx, t, env, bin, c, workflows.ProjectWorkflowID("sealed"), demo.Taxonomy)

	replayer, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{
		DataConverter: codec.DataConverter(c), FailureConverter: codec.FailureConverter(codec.DataConverter(c))})
	if err != nil {
		t.Fatal(err)
	}
	workers.RegisterWorkflows(replayer)
	for _, h := range histories {
		if err := replayer.ReplayWorkflowHistory(nil, h); err != nil {
			t.Errorf("replay with the codec: %v", err)
		}
	}
}

func allHistories(ctx context.Context, t *testing.T, env *demo.Env) []*historypb.History {
	t.Helper()
	tc := env.App.Temporal
	resp, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{PageSize: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []*historypb.History
	for _, e := range resp.GetExecutions() {
		it := tc.GetWorkflowHistory(ctx, e.GetExecution().GetWorkflowId(), e.GetExecution().GetRunId(), false, 0)
		h := &historypb.History{}
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				t.Fatal(err)
			}
			h.Events = append(h.Events, ev)
		}
		out = append(out, h)
	}
	if len(out) < 4 {
		t.Fatalf("%d workflows ran, want a project, its chunks and payroll", len(out))
	}
	return out
}

// decryptAll decrypts a copy of every payload in h, and returns how many were encrypted and the
// decrypted history's bytes.
func decryptAll(t *testing.T, c *codec.Codec, h *historypb.History) (int, []byte) {
	t.Helper()
	h = proto.Clone(h).(*historypb.History)
	n := 0
	var walk func(m protoreflect.Message)
	walk = func(m protoreflect.Message) {
		if p, ok := m.Interface().(*commonpb.Payload); ok {
			if codec.Encrypted(p) {
				n++
				out, err := c.Decode([]*commonpb.Payload{p})
				if err != nil {
					t.Fatal(err)
				}
				proto.Reset(p)
				proto.Merge(p, out[0])
			}
			return
		}
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case fd.IsList() && fd.Message() != nil:
				for i := 0; i < v.List().Len(); i++ {
					walk(v.List().Get(i).Message())
				}
			case fd.IsMap() && fd.MapValue().Message() != nil:
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					walk(mv.Message())
					return true
				})
			case fd.Message() != nil && !fd.IsMap():
				walk(v.Message())
			}
			return true
		})
	}
	walk(h.ProtoReflect())
	raw, _ := proto.Marshal(h)
	return n, raw
}

func found(blobs [][]byte, s string) bool {
	for _, b := range blobs {
		if bytes.Contains(b, []byte(s)) {
			return true
		}
	}
	return false
}

// cliShowsDecodedHistory runs the Temporal CLI's `workflow show` against the codec server: with
// the credential it shows the project's spec (its classes) in clear, without it the CLI gets
// nothing decoded.
func cliShowsDecodedHistory(ctx context.Context, t *testing.T, env *demo.Env, bin string, c *codec.Codec, workflowID string, classes []string) {
	t.Helper()
	const secret = "codec-proxy-secret-0123456789abcdef"
	srv := httptest.NewServer(codec.Handler(codec.ServerOptions{Codec: c, Namespace: env.Cfg.TemporalNamespace, Authorize: codec.SharedSecret(secret)}))
	defer srv.Close()
	show := func(auth string) (string, error) {
		args := []string{"workflow", "show", "--workflow-id", workflowID, "--address", env.Cfg.TemporalAddress,
			"--namespace", env.Cfg.TemporalNamespace, "--codec-endpoint", srv.URL + "/{namespace}", "-o", "json",
			"--disable-config-file", "--disable-config-env"}
		if auth != "" {
			args = append(args, "--codec-auth", auth)
		}
		cmd := exec.CommandContext(ctx, filepath.Join(bin, "temporal"), args...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := show("Bearer " + secret)
	if err != nil {
		t.Fatalf("temporal workflow show through the codec server: %v\n%s", err, out)
	}
	for _, class := range classes {
		if !strings.Contains(payloadData(out), class) {
			t.Errorf("the CLI, with the codec server, does not show the class %q:\n%.2000s", class, out)
		}
	}
	out, err = show("")
	if err == nil && strings.Contains(payloadData(out), classes[0]) {
		t.Errorf("the CLI without a credential shows the class %q", classes[0])
	}
}

var dataField = regexp.MustCompile(`"data": "([A-Za-z0-9+/=]+)"`)

// payloadData is the CLI's JSON output with every payload's data decoded from base64.
func payloadData(out string) string {
	var b strings.Builder
	for _, m := range dataField.FindAllStringSubmatch(out, -1) {
		if d, err := base64.StdEncoding.DecodeString(m[1]); err == nil {
			b.Write(d)
			b.WriteByte('\n')
		}
	}
	return b.String()
}
