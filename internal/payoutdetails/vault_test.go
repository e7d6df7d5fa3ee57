package payoutdetails

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/labelflow/labelflow/internal/devstack/devstacktest"
)

func TestVaultKeepsDetailsSealedAndOpensThemForTheirPerson(t *testing.T) {
	env := devstacktest.Start(t)
	ctx := context.Background()
	v, err := NewVault(env.Store, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	amina := Details{Person: "amina", Holder: "Amina Wanjiru", MSISDN: "+254 712 345 678", Operator: "mpesa"}
	grace := Details{Person: "grace", Holder: "Grace Okafor", IBAN: validIBANs[0], BIC: "WESTGB2L"}
	if err := v.Save(ctx, []Details{amina, grace}); err != nil {
		t.Fatal(err)
	}
	raw, err := env.Store.Get(ctx, Key("amina"))
	if err != nil {
		t.Fatal(err)
	}
	for _, plain := range []string{"712345678", "Amina", "mpesa"} {
		if bytes.Contains(raw, []byte(plain)) {
			t.Fatalf("the stored record shows %q: %s", plain, raw)
		}
	}
	got, err := v.Get(ctx, "amina")
	if err != nil || got.MSISDN != "+254712345678" || got.Holder != "Amina Wanjiru" || got.Operator != "mpesa" {
		t.Fatalf("amina's details: %+v, %v", got.String(), err)
	}

	// A record copied over another person's does not open as theirs.
	if err := env.Store.Put(ctx, Key("grace"), raw); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Get(ctx, "grace"); err == nil {
		t.Fatal("amina's record opened as grace's")
	}
	if _, err := v.Get(ctx, "kofi"); !errors.Is(err, ErrNoDetails) {
		t.Fatalf("no details: %v", err)
	}
	// Nothing is saved when one of the people is invalid.
	bad := []Details{{Person: "kofi", Holder: "Kofi", AccountNumber: "1", BankCode: "01"}, {Person: "esi", Holder: "Esi"}}
	if err := v.Save(ctx, bad); err == nil {
		t.Fatal("invalid details saved")
	}
	if _, err := v.Get(ctx, "kofi"); !errors.Is(err, ErrNoDetails) {
		t.Fatalf("kofi's details were saved with esi's bad ones: %v", err)
	}
	// Without a key, the vault refuses rather than keep details in the clear.
	keyless, _ := NewVault(env.Store, "")
	if err := keyless.Save(ctx, []Details{amina}); !errors.Is(err, ErrNoKey) {
		t.Fatalf("save without a key: %v", err)
	}
	if _, err := (Vault{}).Get(ctx, "amina"); !errors.Is(err, ErrNoKey) {
		t.Fatalf("get without a key: %v", err)
	}
}
