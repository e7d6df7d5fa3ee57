package workforce

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/labelflow/labelflow/internal/devstack/devstacktest"
	"github.com/labelflow/labelflow/internal/store"
)

func TestNewTokenIsLongRandomAndWellFormed(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		tok, err := NewToken()
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) != TokenLen || TokenLen != 46 || !strings.HasPrefix(tok, TokenPrefix) {
			t.Fatalf("token %q: length %d, want %d with prefix %s", tok, len(tok), TokenLen, TokenPrefix)
		}
		raw, err := base64.RawURLEncoding.DecodeString(tok[len(TokenPrefix):])
		if err != nil || len(raw) != 32 {
			t.Fatalf("token %q does not carry 32 bytes: %v", tok, err)
		}
		if err := CheckToken(tok); err != nil {
			t.Fatalf("an issued token is refused: %v", err)
		}
		if seen[tok] {
			t.Fatalf("token %q issued twice", tok)
		}
		seen[tok] = true
	}
}

func TestCheckTokenRefusesWhatWasNotIssued(t *testing.T) {
	good, _ := NewToken()
	for _, bad := range []string{
		"", strings.Repeat("a", 16), "amina-token-0123456789", good[len(TokenPrefix):] + "xyz",
		TokenPrefix + strings.Repeat("a", 43), good[:45], good + "A", good[:45] + "=", good[:45] + "\n", good[:45] + "é"[:1],
		"LF_" + good[3:],
	} {
		if err := CheckToken(bad); err == nil {
			t.Errorf("CheckToken(%q) accepted it", bad)
		} else if bad != "" && strings.Contains(err.Error(), bad) {
			t.Errorf("the message repeats the token: %v", err)
		}
	}
}

func TestTokenHashIsKeyedByThePepper(t *testing.T) {
	// RFC 4231, test case 2: HMAC-SHA256 with key "Jefe".
	if got, want := (Roster{Pepper: []byte("Jefe")}).TokenHash("what do ya want for nothing?"),
		"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"; got != want {
		t.Errorf("TokenHash = %s, want %s", got, want)
	}
	a, b := Roster{Pepper: []byte("pepper-one-0123456789-0123456789")}, Roster{Pepper: []byte("pepper-two-0123456789-0123456789")}
	if once, again := a.TokenHash(tokenAsha), a.TokenHash(tokenAsha); once != again {
		t.Error("the same token and pepper hash differently")
	}
	if a.TokenHash(tokenAsha) == b.TokenHash(tokenAsha) {
		t.Error("the same token under two peppers hashes alike")
	}
	if a.TokenHash(tokenAsha) == a.TokenHash(tokenBrn) {
		t.Error("two tokens hash alike")
	}
	plain := sha256.Sum256([]byte(tokenAsha))
	if a.TokenHash(tokenAsha) == hex.EncodeToString(plain[:]) {
		t.Error("the hash is the bare SHA-256 of the token")
	}
}

func TestParseCSVWithoutTokens(t *testing.T) {
	entries, err := ParseCSV("roster.csv", strings.NewReader("id,name,country,role\namina,Amina W.,KE,annotator\n"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Token != "" || entries[0].Person.TokenHash != "" || entries[0].Line != 2 {
		t.Fatalf("entries = %+v", entries)
	}
	// An empty cell of a token column gives no token either.
	entries, err = ParseCSV("roster.csv", strings.NewReader("id,name,country,role,token\namina,Amina W.,KE,annotator,\n"))
	if err != nil || entries[0].Token != "" {
		t.Fatalf("empty token cell: %+v, %v", entries, err)
	}
}

func TestParseCSVRefusesAWeakTokenWithLineAndField(t *testing.T) {
	data := "id,name,country,role,token\n" +
		"grace,Grace O.,NG,annotator," + tokenBrn + "\n" +
		"amina,Amina W.,KE,annotator,aaaaaaaaaaaaaaaa\n"
	_, err := ParseCSV("roster.csv", strings.NewReader(data))
	if err == nil || !strings.Contains(err.Error(), "roster.csv:3: token: ") {
		t.Fatalf("a token of 16 × a: %v, want roster.csv:3: token: …", err)
	}
}

// rosterEnv is a roster in a real object store, with a pepper.
func rosterEnv(t *testing.T) (Roster, context.Context) {
	t.Helper()
	env := devstacktest.Start(t)
	return Roster{Store: env.Store, Pepper: []byte("test-pepper-0123456789-0123456789")}, context.Background()
}

func importCSV(ctx context.Context, r Roster, data string) ([]Person, error) {
	entries, err := ParseCSV("roster.csv", strings.NewReader(data))
	if err != nil {
		return nil, err
	}
	return r.Import(ctx, entries)
}

// signsInAs fails t unless token authenticates as id.
func signsInAs(t *testing.T, ctx context.Context, r Roster, token, id string) {
	t.Helper()
	p, err := r.ByToken(ctx, token)
	if err != nil || p.ID != id {
		t.Fatalf("token signs in as %q (%v), want %s", p.ID, err, id)
	}
}

// refused fails t unless token is refused as unknown.
func refused(t *testing.T, ctx context.Context, r Roster, token string) {
	t.Helper()
	if p, err := r.ByToken(ctx, token); !errors.Is(err, ErrUnknownToken) {
		t.Fatalf("token still signs in: %+v, %v", p, err)
	}
}

func TestTokensAgainstARealStore(t *testing.T) {
	r, ctx := rosterEnv(t)
	const people = "id,name,country,role,languages\namina,Amina W.,KE,annotator,en\ngrace,Grace O.,NG,annotator,en\n"
	if _, err := importCSV(ctx, r, people); err != nil {
		t.Fatal(err)
	}
	amina, err := r.IssueToken(ctx, "amina")
	if err != nil {
		t.Fatal(err)
	}
	grace, err := r.IssueToken(ctx, "grace")
	if err != nil {
		t.Fatal(err)
	}
	signsInAs(t, ctx, r, amina, "amina")
	signsInAs(t, ctx, r, grace, "grace")

	t.Run("a re-import giving amina grace's token is refused and changes nobody", func(t *testing.T) {
		before, _ := r.Get(ctx, "amina")
		_, err := importCSV(ctx, r, "id,name,country,role,token\n"+
			"amina,Amina Impostor,KE,finance,"+grace+"\n")
		var ie *ImportError
		if !errors.As(err, &ie) || len(ie.Lines) != 1 || ie.Lines[0].Line != 2 || ie.Lines[0].Field != "token" ||
			!strings.Contains(ie.Lines[0].Msg, "grace") || strings.Contains(err.Error(), grace) {
			t.Fatalf("import = %v, want roster.csv:2: token: already held by grace", err)
		}
		after, _ := r.Get(ctx, "amina")
		if after.Name != before.Name || after.Role != "annotator" || after.TokenHash != before.TokenHash {
			t.Fatalf("amina changed: %+v", after)
		}
		signsInAs(t, ctx, r, amina, "amina")
		signsInAs(t, ctx, r, grace, "grace")
	})

	t.Run("one file giving two people the same token is refused", func(t *testing.T) {
		tok, _ := NewToken()
		_, err := importCSV(ctx, r, "id,name,country,role,token\namina,A,KE,annotator,"+tok+"\ngrace,G,NG,annotator,"+tok+"\n")
		if err == nil || !strings.Contains(err.Error(), "roster.csv:3: token: same token as line 2") {
			t.Fatalf("import = %v", err)
		}
		refused(t, ctx, r, tok)
	})

	t.Run("Save refuses a token hash another person holds", func(t *testing.T) {
		p, _ := r.Get(ctx, "amina")
		p.TokenHash = r.TokenHash(grace)
		p.Name = "changed"
		var held *TokenHeldError
		if err := r.Save(ctx, []Person{p}); !errors.As(err, &held) || held.Holder != "grace" || held.Person != "amina" {
			t.Fatalf("Save = %v, want the token held by grace", err)
		}
		if got, _ := r.Get(ctx, "amina"); got.Name == "changed" {
			t.Fatal("amina was written")
		}
		signsInAs(t, ctx, r, grace, "grace")
	})

	t.Run("a re-import without tokens keeps everyone's", func(t *testing.T) {
		if _, err := importCSV(ctx, r, strings.Replace(people, "Amina W.", "Amina Wanjiru", 1)); err != nil {
			t.Fatal(err)
		}
		signsInAs(t, ctx, r, amina, "amina")
		if p, _ := r.Get(ctx, "amina"); p.Name != "Amina Wanjiru" {
			t.Fatalf("amina = %+v", p)
		}
	})

	t.Run("issue refuses a person with a token and an unknown person", func(t *testing.T) {
		if _, err := r.IssueToken(ctx, "amina"); !errors.Is(err, ErrHasToken) {
			t.Fatalf("second issue: %v", err)
		}
		for _, do := range []func() error{
			func() error { _, err := r.IssueToken(ctx, "nobody"); return err },
			func() error { _, err := r.RotateToken(ctx, "nobody"); return err },
			func() error { return r.RevokeToken(ctx, "nobody") },
		} {
			if err := do(); !errors.Is(err, ErrUnknownPerson) || !strings.Contains(err.Error(), `"nobody"`) {
				t.Fatalf("unknown person: %v", err)
			}
		}
		if _, err := r.Get(ctx, "nobody"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("a person was made up: %v", err)
		}
	})

	t.Run("rotate: the old token fails at once, the new one works", func(t *testing.T) {
		old, _ := r.Get(ctx, "amina")
		fresh, err := r.RotateToken(ctx, "amina")
		if err != nil {
			t.Fatal(err)
		}
		refused(t, ctx, r, amina)
		signsInAs(t, ctx, r, fresh, "amina")
		if ok, _ := r.Store.Exists(ctx, tokenKey(old.TokenHash)); ok {
			t.Error("the old token's record is still stored")
		}
		amina = fresh
	})

	t.Run("revoke: the token fails, the person stays", func(t *testing.T) {
		if err := r.RevokeToken(ctx, "grace"); err != nil {
			t.Fatal(err)
		}
		refused(t, ctx, r, grace)
		p, err := r.Get(ctx, "grace")
		if err != nil || p.TokenHash != "" || p.Name != "Grace O." {
			t.Fatalf("grace after revoke = %+v, %v", p, err)
		}
		if _, err := r.RotateToken(ctx, "grace"); !errors.Is(err, ErrNoToken) {
			t.Fatalf("rotate without a token: %v", err)
		}
		if err := r.RevokeToken(ctx, "grace"); !errors.Is(err, ErrNoToken) {
			t.Fatalf("second revoke: %v", err)
		}
		again, err := r.IssueToken(ctx, "grace")
		if err != nil {
			t.Fatal(err)
		}
		signsInAs(t, ctx, r, again, "grace")
		refused(t, ctx, r, grace)
	})

	t.Run("a token hashed under another pepper does not sign in", func(t *testing.T) {
		other := Roster{Store: r.Store, Pepper: []byte("another-pepper-0123456789-012345")}
		refused(t, ctx, other, amina)
		if _, err := (Roster{Store: r.Store}).ByToken(ctx, amina); !errors.Is(err, ErrNoPepper) {
			t.Fatalf("sign-in without a pepper: %v", err)
		}
	})

	t.Run("a record of the bare SHA-256 no longer signs in", func(t *testing.T) {
		legacy, _ := NewToken()
		sum := sha256.Sum256([]byte(legacy))
		p := Person{ID: "legacy", Name: "Legacy", Country: "KE", Role: "annotator", PayoutMethod: "bank-transfer", TokenHash: hex.EncodeToString(sum[:])}
		if err := r.Save(ctx, []Person{p}); err != nil {
			t.Fatal(err)
		}
		refused(t, ctx, r, legacy)
	})

	t.Run("Remove takes the person and the token", func(t *testing.T) {
		if err := r.Remove(ctx, "amina"); err != nil {
			t.Fatal(err)
		}
		refused(t, ctx, r, amina)
		if _, err := r.Get(ctx, "amina"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("amina still in the roster: %v", err)
		}
	})
}
