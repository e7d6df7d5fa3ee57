package simulate

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/devstack/devstacktest"
	"github.com/labelflow/labelflow/internal/label"
	"github.com/labelflow/labelflow/internal/store"
	"github.com/labelflow/labelflow/internal/workforce"
)

func TestLoadTruth(t *testing.T) {
	truth, err := LoadTruth("t.csv", strings.NewReader("task,worker,label\nr1,w,positive\nr2,w,negative\n"))
	if err != nil {
		t.Fatal(err)
	}
	if truth["r1"] != "positive" || truth["r2"] != "negative" || len(truth) != 2 {
		t.Fatalf("truth = %v", truth)
	}
	for _, bad := range []string{"id,answer\nr1,x\n", "id,label\nr1,x\nr1,y\n", "id,label\n,x\n"} {
		if _, err := LoadTruth("t.csv", strings.NewReader(bad)); err == nil || !strings.Contains(err.Error(), "t.csv:") {
			t.Errorf("%q: error %v, want one naming the file and line", bad, err)
		}
	}
}

func TestAnswerAccuracy(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	tax := []string{"a", "b", "c"}
	right := 0
	const n = 20000
	for i := 0; i < n; i++ {
		var got string
		_ = json.Unmarshal(noisyAnswer(rng, "single-label", json.RawMessage(`"a"`), tax, 0.85, itemInfo{}), &got)
		if got == "a" {
			right++
		}
	}
	if rate := float64(right) / n; rate < 0.84 || rate > 0.86 {
		t.Fatalf("correct %.3f of the time, want 0.85", rate)
	}
}

func TestCrowdKeepsIdsAndDrawsNewTokens(t *testing.T) {
	o := Options{Project: "p", Annotators: 3, Reviewers: 2}
	a, err := Crowd(o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := Crowd(o)
	if len(a) != 5 || a[0].ID != b[0].ID || a[4].Role != "reviewer" {
		t.Fatalf("crowd = %+v", a)
	}
	seen := map[string]bool{}
	for i, p := range a {
		if seen[p.ID] || seen[p.Token] {
			t.Fatalf("person %s or their token appears twice", p.ID)
		}
		seen[p.ID], seen[p.Token] = true, true
		if !p.Simulated || p.TokenHash != "" {
			t.Errorf("%s: simulated %v, token hash %q", p.ID, p.Simulated, p.TokenHash)
		}
		if err := workforce.CheckToken(p.Token); err != nil || strings.Contains(p.Token, p.ID) {
			t.Errorf("%s has a token that is not random: %v", p.ID, err)
		}
		if p.Token == b[i].Token {
			t.Errorf("%s has the same token in two runs", p.ID)
		}
	}
}

func TestSimulatedPeopleAreRefusedOnAProductionStack(t *testing.T) {
	prod := config.Config{Trust: config.Trust{Stack: config.StackProduction}}
	_, err := Allow(prod, false)
	if !errors.Is(err, ErrNotAllowed) || !strings.Contains(err.Error(), "--allow-simulated-people") {
		t.Fatalf("Allow on production = %v, want a refusal that names the flag", err)
	}
	// Without a permit nothing reaches the roster, whoever calls.
	if err := Register(context.Background(), Permit{}, workforce.Roster{}, nil); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("Register without a permit = %v", err)
	}
	if _, err := Simulate(context.Background(), Permit{}, workforce.Roster{}, nil, Options{Project: "p", Annotators: 1}, nil); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("Simulate without a permit = %v", err)
	}
	if _, err := Allow(prod, true); err != nil {
		t.Fatalf("explicitly allowed: %v", err)
	}
	if _, err := Allow(config.Config{Trust: config.Trust{Stack: config.StackEmbedded}}, false); err != nil {
		t.Fatalf("embedded: %v", err)
	}
}

func TestRegisterAndUnregisterAgainstARealStore(t *testing.T) {
	env := devstacktest.Start(t)
	ctx := context.Background()
	r := workforce.Roster{Store: env.Store, Pepper: []byte("test-pepper-0123456789-0123456789")}
	permit, _ := Allow(config.Config{Trust: config.Trust{Stack: config.StackEmbedded}}, false)
	crowd, err := Crowd(Options{Project: "p", Annotators: 2, Reviewers: 1})
	if err != nil {
		t.Fatal(err)
	}
	// A real person who happens to have a simulated person's id is never replaced.
	human := workforce.Person{ID: crowd[1].ID, Name: "Real Person", Country: "KE", Role: "annotator", PayoutMethod: "bank-transfer"}
	if err := r.Save(ctx, []workforce.Person{human}); err != nil {
		t.Fatal(err)
	}
	if err := Register(ctx, permit, r, crowd); err == nil || !strings.Contains(err.Error(), "not simulated") {
		t.Fatalf("Register over a real person = %v", err)
	}
	if err := Unregister(ctx, r, crowd); err != nil {
		t.Fatal(err)
	}
	if p, err := r.Get(ctx, human.ID); err != nil || p.Name != "Real Person" {
		t.Fatalf("the real person after Unregister: %+v, %v", p, err)
	}
	if err := r.Remove(ctx, human.ID); err != nil {
		t.Fatal(err)
	}

	if err := Register(ctx, permit, r, crowd); err != nil {
		t.Fatal(err)
	}
	for _, c := range crowd {
		p, err := r.ByToken(ctx, c.Token)
		if err != nil || p.ID != c.ID || !p.Simulated {
			t.Fatalf("%s signs in as %+v, %v", c.ID, p, err)
		}
	}
	if err := Unregister(ctx, r, crowd); err != nil {
		t.Fatal(err)
	}
	for _, c := range crowd {
		if _, err := r.ByToken(ctx, c.Token); !errors.Is(err, workforce.ErrUnknownToken) {
			t.Errorf("%s still signs in: %v", c.ID, err)
		}
		if _, err := r.Get(ctx, c.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s still in the roster: %v", c.ID, err)
		}
	}
}

// A simulation that fails (here: no gateway answers) still leaves the roster as it found it.
func TestSimulateRemovesItsPeopleWhenTheRunFails(t *testing.T) {
	env := devstacktest.Start(t)
	ctx := context.Background()
	r := workforce.Roster{Store: env.Store, Pepper: []byte("test-pepper-0123456789-0123456789")}
	permit, _ := Allow(config.Config{Trust: config.Trust{Stack: config.StackEmbedded}}, false)
	var registered []Person
	_, err := Simulate(ctx, permit, r, env.Store, Options{GatewayURL: "http://127.0.0.1:1", Project: "p", Annotators: 2, Reviewers: 1},
		func(c []Person) {
			registered = c
			for _, p := range c {
				if _, err := r.ByToken(ctx, p.Token); err != nil {
					t.Errorf("%s is not registered while the simulation runs: %v", p.ID, err)
				}
			}
		})
	if err == nil || len(registered) != 3 {
		t.Fatalf("Simulate against no gateway = %v with %d people", err, len(registered))
	}
	for _, p := range registered {
		if _, err := r.Get(ctx, p.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s still in the roster after the failed run: %v", p.ID, err)
		}
	}
}

func TestNoisyAnswersAreValidAndAgreeWhenRight(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	info := itemInfo{Width: 640, Height: 480, Text: "Amina Wanjiru flew from Nairobi to Kigali."}
	cases := []struct {
		typ   string
		tax   []string
		truth string
	}{
		{label.SingleLabelName, []string{"a", "b", "c"}, `"b"`},
		{label.MultiLabelName, []string{"a", "b", "c", "d"}, `["a","c"]`},
		{label.BoundingBoxName, []string{"car", "person"}, `{"boxes":[{"label":"car","left":10,"top":20,"width":200,"height":100},{"label":"person","left":400,"top":100,"width":60,"height":200}]}`},
		{label.TranscriptionName, []string{"text"}, `{"text":"Receipt total 1,250 KES"}`},
		{label.SpansName, []string{"PER", "LOC"}, `{"spans":[{"start":0,"end":13,"label":"PER"},{"start":24,"end":31,"label":"LOC"},{"start":35,"end":41,"label":"LOC"}]}`},
	}
	for _, c := range cases {
		typ, err := label.Lookup(c.typ)
		if err != nil {
			t.Fatal(err)
		}
		item := label.Item{Taxonomy: c.tax, Width: 640, Height: 480, TextLen: len([]rune(info.Text))}
		truth := json.RawMessage(c.truth)
		for _, acc := range []float64{1, 0} {
			agree := 0
			for i := 0; i < 200; i++ {
				a := noisyAnswer(rng, c.typ, truth, c.tax, acc, info)
				if err := typ.Validate(a, item); err != nil {
					t.Fatalf("%s: invalid answer %s: %v", c.typ, a, err)
				}
				if label.Agree(typ, a, truth, 0) {
					agree++
				}
			}
			if acc == 1 && agree < 190 || acc == 0 && agree > 10 {
				t.Errorf("%s at accuracy %.0f: %d of 200 answers agree with the truth", c.typ, acc, agree)
			}
		}
	}
}

// The crowd keeps the items of a bounded number of chunks, the lowest-numbered dropped first.
func TestCrowdForgetsOldChunks(t *testing.T) {
	s := &sim{truth: map[int][]known{}}
	for c := range truthChunks + 10 {
		s.forgetOldChunks()
		s.truth[c] = []known{{id: "x"}}
	}
	if len(s.truth) != truthChunks {
		t.Fatalf("%d chunks kept, want %d", len(s.truth), truthChunks)
	}
	for c := range 10 {
		if _, ok := s.truth[c]; ok {
			t.Fatalf("chunk %d kept, though the oldest", c)
		}
	}
}
