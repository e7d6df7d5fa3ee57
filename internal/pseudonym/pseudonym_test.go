package pseudonym

import (
	"errors"
	"strings"
	"testing"
)

const key = "0123456789abcdef0123456789abcdef"

func TestAPseudonymIsStablePerClientAndNeverTheRosterID(t *testing.T) {
	n, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	amina := n.Of("acme", "amina")
	if amina != n.Of("acme", "amina") {
		t.Fatal("the same person has two pseudonyms for one client")
	}
	if !strings.HasPrefix(amina, Prefix) || len(amina) != len(Prefix)+16 || strings.Contains(amina, "amina") {
		t.Fatalf("pseudonym %q", amina)
	}
	if amina == n.Of("globex", "amina") {
		t.Fatal("two clients see the same pseudonym for one person")
	}
	if amina == n.Of("acme", "grace") {
		t.Fatal("two people share a pseudonym")
	}
	// The separator keeps the client and the person apart.
	if n.Of("ab", "c") == n.Of("a", "bc") {
		t.Fatal("client and person run together")
	}
	other, _ := New(strings.Repeat("k", 32))
	if other.Of("acme", "amina") == amina {
		t.Fatal("the key does not matter")
	}
	if n.Of("acme", "") != "" {
		t.Fatal("no one got a pseudonym")
	}
	if n.For("acme")("amina") != amina {
		t.Fatal("For differs from Of")
	}
}

func TestFinanceMapsAPseudonymBack(t *testing.T) {
	n, _ := New(key)
	roster := []string{"grace", "amina", "kofi"}
	p := n.Of("acme", "amina")
	if got, err := n.Find("acme", strings.ToUpper(p), roster); err != nil || got != "amina" {
		t.Fatalf("Find = %q, %v", got, err)
	}
	if _, err := n.Find("globex", p, roster); !errors.Is(err, ErrUnknown) {
		t.Fatalf("another client's pseudonym found: %v", err)
	}
	if _, err := n.Find("acme", "amina", roster); err == nil || errors.Is(err, ErrUnknown) {
		t.Fatalf("a roster id taken for a pseudonym: %v", err)
	}
}

func TestShortKeysAreRefused(t *testing.T) {
	if _, err := New("short"); err == nil {
		t.Fatal("a 5-byte key accepted")
	}
}
