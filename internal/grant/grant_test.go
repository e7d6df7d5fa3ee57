package grant

import (
	"errors"
	"testing"
	"time"
)

func TestSealVerifiesOnlyItsOwnRequest(t *testing.T) {
	keys, err := ParseKeys("k1:0123456789abcdef0123456789abcdef", true)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	target := Target{Workflow: "payroll-2026-11", Action: "approve"}
	body := []byte(`{"approver":"fatuma","role":"finance"}`)
	seal := keys.Sign(target, body, now)
	if err := keys.Verify(target, body, &seal, now.Add(time.Second)); err != nil {
		t.Fatalf("own seal refused: %v", err)
	}
	cases := map[string]struct {
		target Target
		body   string
		seal   *Seal
		at     time.Time
		want   error
	}{
		"no seal":               {target, string(body), nil, now, ErrMissing},
		"another person":        {target, `{"approver":"mallory","role":"finance"}`, &seal, now, ErrInvalid},
		"another workflow":      {Target{"payroll-2026-12", "approve"}, string(body), &seal, now, ErrInvalid},
		"another update":        {Target{"payroll-2026-11", "hold"}, string(body), &seal, now, ErrInvalid},
		"expired":               {target, string(body), &seal, now.Add(TTL), ErrExpired},
		"unknown key":           {target, string(body), &Seal{KeyID: "k9", Expires: seal.Expires, MAC: seal.MAC}, now, ErrInvalid},
		"expiry moved later":    {target, string(body), &Seal{KeyID: "k1", Expires: seal.Expires.Add(time.Hour), MAC: seal.MAC}, now, ErrInvalid},
		"made-up mac":           {target, string(body), &Seal{KeyID: "k1", Expires: seal.Expires, MAC: "AAAA"}, now, ErrInvalid},
		"empty mac":             {target, string(body), &Seal{KeyID: "k1", Expires: seal.Expires}, now, ErrMissing},
		"signed with other key": {target, string(body), ptr(mustKeys(t, "k1:another-key-another-key-another-key").Sign(target, body, now)), now, ErrInvalid},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			if err := keys.Verify(c.target, []byte(c.body), c.seal, c.at); !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
		})
	}
}

func TestRotationVerifiesWithOldKeys(t *testing.T) {
	old := mustKeys(t, "2026a:old-secret-old-secret-old-secret-xx")
	rotated := mustKeys(t, "2026b:new-secret-new-secret-new-secret-xx,2026a:old-secret-old-secret-old-secret-xx")
	now := time.Now()
	target := Target{"w", "claim"}
	seal := old.Sign(target, []byte("{}"), now)
	if err := rotated.Verify(target, []byte("{}"), &seal, now); err != nil {
		t.Fatalf("a seal of the previous key must verify during rotation: %v", err)
	}
	if s := rotated.Sign(target, nil, now); s.KeyID != "2026b" {
		t.Fatalf("the first key signs, got %q", s.KeyID)
	}
}

func TestParseKeysRefusesWeakOrMalformedKeys(t *testing.T) {
	for _, s := range []string{"", "nocolon", "id:", ":secret", "a:short", "a:0123456789abcdef0123456789abcdef,a:0123456789abcdef0123456789abcdef"} {
		if _, err := ParseKeys(s, true); err == nil {
			t.Errorf("ParseKeys(%q) accepted", s)
		}
	}
	if _, err := ParseKeys("dev:short", false); err != nil {
		t.Errorf("the embedded stack may use a short dev key: %v", err)
	}
	var none *Keys
	if err := none.Verify(Target{}, nil, &Seal{MAC: "x"}, time.Now()); !errors.Is(err, ErrNoKeys) {
		t.Errorf("no keys: got %v", err)
	}
}

func mustKeys(t testing.TB, s string) *Keys {
	t.Helper()
	k, err := ParseKeys(s, false)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ptr[T any](v T) *T { return &v }

// BenchmarkSignVerify measures what a seal costs each claim and submission: one sign in the
// gateway, one verify in the validator.
func BenchmarkSignVerify(b *testing.B) {
	k := mustKeys(b, "k1:0123456789abcdef0123456789abcdef")
	body := make([]byte, 2048) // a suite of ten answers, about the size of a submit
	t := Target{Workflow: "project-acme-chunk-000001", Action: "submit"}
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		s := k.Sign(t, body, now)
		if err := k.Verify(t, body, &s, now); err != nil {
			b.Fatal(err)
		}
	}
}
