package payoutdetails

import (
	"bytes"
	"strings"
	"testing"
)

const (
	oldKey = "k1:an-old-secret-of-at-least-thirty-two-bytes"
	newKey = "k2:a-new-secret-of-at-least-thirty-two-bytes!"
)

func TestParseKeysRefusesWeakOrMalformedKeys(t *testing.T) {
	for s, want := range map[string]string{
		"short:abc":                         "at least 32 bytes",
		"no-secret":                         "id:secret",
		":" + strings.Repeat("x", 32):       "id:secret",
		oldKey + "," + oldKey:               "twice",
		"bad id:" + strings.Repeat("x", 32): "id:secret",
	} {
		if _, err := ParseKeys(s); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", s, err, want)
		}
	}
}

func TestSealedDetailsOpenOnlyForTheirPersonAndUnderAKeyHeld(t *testing.T) {
	old, err := ParseKeys(oldKey)
	if err != nil {
		t.Fatal(err)
	}
	rotated, err := ParseKeys(newKey + "," + oldKey)
	if err != nil {
		t.Fatal(err)
	}
	plain := []byte(`{"iban":"GB82WEST12345698765432"}`)
	r, err := old.seal("amina", plain)
	if err != nil {
		t.Fatal(err)
	}
	if r.KeyID != "k1" || bytes.Contains(r.Data, []byte("GB82")) {
		t.Fatalf("sealed record %+v", r)
	}
	// After rotation the old key still opens what it sealed; new records are sealed under k2.
	if got, err := rotated.open("amina", r); err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("open after rotation: %q, %v", got, err)
	}
	if r2, _ := rotated.seal("amina", plain); r2.KeyID != "k2" || bytes.Equal(r2.Nonce, r.Nonce) {
		t.Fatalf("sealed after rotation under %q with nonce %x", r2.KeyID, r2.Nonce)
	}
	// A record moved to another person does not open: the person is bound into the tag.
	if _, err := old.open("grace", r); err == nil || !strings.Contains(err.Error(), "not theirs") {
		t.Fatalf("amina's record opened as grace's: %v", err)
	}
	newOnly, _ := ParseKeys(newKey)
	if _, err := newOnly.open("amina", r); err == nil || !strings.Contains(err.Error(), `key "k1"`) {
		t.Fatalf("a record under a key no longer held: %v", err)
	}
	r.Data[0] ^= 1
	if _, err := old.open("amina", r); err == nil {
		t.Fatal("a tampered record opened")
	}
}
