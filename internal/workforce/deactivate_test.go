package workforce

import (
	"errors"
	"strings"
	"testing"

	"github.com/labelflow/labelflow/internal/layout"
)

func TestPeoplePrefixIsWherePeopleAreStored(t *testing.T) {
	if key := layout.PersonKey("amina"); key != peoplePrefix+"amina.json" {
		t.Fatalf("PersonKey(amina) = %q, outside %q", key, peoplePrefix)
	}
}

func TestDeactivateAgainstARealStore(t *testing.T) {
	r, ctx := rosterEnv(t)
	const people = "id,name,country,role\nbrian,Brian K.,KE,annotator\namina,Amina W.,KE,annotator\nops1,Olu,NG,ops\n"
	if _, err := importCSV(ctx, r, people); err != nil {
		t.Fatal(err)
	}
	amina, err := r.IssueToken(ctx, "amina")
	if err != nil {
		t.Fatal(err)
	}
	brian, err := r.IssueToken(ctx, "brian")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("List returns everyone by id, with their tokens' hashes", func(t *testing.T) {
		all, err := r.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, p := range all {
			ids = append(ids, p.ID)
		}
		if strings.Join(ids, ",") != "amina,brian,ops1" || all[0].TokenHash != r.TokenHash(amina) || all[2].TokenHash != "" {
			t.Fatalf("List = %+v", all)
		}
	})

	t.Run("a deactivated person cannot sign in and stays in the roster", func(t *testing.T) {
		p, err := r.Deactivate(ctx, "amina")
		if err != nil || !p.Inactive || p.TokenHash != "" {
			t.Fatalf("Deactivate = %+v, %v", p, err)
		}
		refused(t, ctx, r, amina)
		signsInAs(t, ctx, r, brian, "brian")
		stored, err := r.Get(ctx, "amina")
		if err != nil || !stored.Inactive || stored.Name != "Amina W." {
			t.Fatalf("amina after deactivation = %+v, %v", stored, err)
		}
		if ok, _ := r.Store.Exists(ctx, tokenKey(r.TokenHash(amina))); ok {
			t.Error("the token's record is still stored")
		}
		if again, err := r.Deactivate(ctx, "amina"); err != nil || !again.Inactive {
			t.Fatalf("a second deactivation: %+v, %v", again, err)
		}
		if _, err := r.Deactivate(ctx, "nobody"); !errors.Is(err, ErrUnknownPerson) {
			t.Fatalf("deactivating an unknown person: %v", err)
		}
	})

	t.Run("a re-import, even with a token, does not re-activate", func(t *testing.T) {
		tok, _ := NewToken()
		imported, err := importCSV(ctx, r, "id,name,country,role,token\namina,Amina Wanjiru,KE,annotator,"+tok+"\n")
		if err != nil {
			t.Fatal(err)
		}
		if !imported[0].Inactive {
			t.Fatalf("import returned amina active: %+v", imported[0])
		}
		refused(t, ctx, r, tok)
		if p, _ := r.Get(ctx, "amina"); !p.Inactive || p.Name != "Amina Wanjiru" {
			t.Fatalf("amina after re-import = %+v", p)
		}
	})

	t.Run("an inactive person holding a token is refused", func(t *testing.T) {
		p, _ := r.Get(ctx, "brian")
		p.Inactive = true
		if err := r.Save(ctx, []Person{p}); err != nil {
			t.Fatal(err)
		}
		refused(t, ctx, r, brian)
	})

	t.Run("giving a token re-activates, whether one was held or not", func(t *testing.T) {
		fresh, err := r.GiveToken(ctx, "amina")
		if err != nil {
			t.Fatal(err)
		}
		signsInAs(t, ctx, r, fresh, "amina")
		rotated, err := r.GiveToken(ctx, "brian")
		if err != nil {
			t.Fatal(err)
		}
		signsInAs(t, ctx, r, rotated, "brian")
		refused(t, ctx, r, brian)
		if _, err := r.GiveToken(ctx, "nobody"); !errors.Is(err, ErrUnknownPerson) {
			t.Fatalf("a token for an unknown person: %v", err)
		}
	})
}
