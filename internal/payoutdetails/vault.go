package payoutdetails

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"github.com/labelflow/labelflow/internal/store"
)

// ErrNoKey is returned where details would be sealed or opened without a key.
var ErrNoKey = errors.New("payout details are kept encrypted and this process has no key to them: set LABELFLOW_PAYOUT_DETAILS_KEY")

// ErrNoDetails is returned for a person whose payout details are not on file.
var ErrNoDetails = errors.New("no payout details on file")

// Vault keeps payout details in the platform store, one sealed record per person. The zero Vault,
// and one without keys, refuses every call with ErrNoKey.
type Vault struct {
	Store *store.Store
	Keys  *Keys
}

// NewVault opens the vault under keys as LABELFLOW_PAYOUT_DETAILS_KEY gives them. No keys is not
// an error here: a process that never reads details runs without them, and one that does is told
// so by ErrNoKey.
func NewVault(s *store.Store, keys string) (Vault, error) {
	v := Vault{Store: s}
	if keys == "" {
		return v, nil
	}
	var err error
	v.Keys, err = ParseKeys(keys)
	return v, err
}

// Key is where a person's sealed details are kept: `workforce/payout-details/<id>.json`.
func Key(person string) string { return "workforce/payout-details/" + person + ".json" }

// personPattern is a roster id (and the simulator's longer ones), never a path.
var personPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,127}$`)

// saveWidth is how many records Save writes side by side.
const saveWidth = 16

// Ready says whether the vault can seal and open details.
func (v Vault) Ready() error {
	if v.Store == nil || v.Keys == nil {
		return ErrNoKey
	}
	return nil
}

// Save checks and seals each person's details, then writes them. Nothing is written unless every
// one is valid.
func (v Vault) Save(ctx context.Context, details []Details) error {
	if err := v.Ready(); err != nil {
		return err
	}
	records := make([]sealedRecord, len(details))
	for i := range details {
		d := details[i]
		if !personPattern.MatchString(d.Person) {
			return fmt.Errorf("%q is not a roster id; no payout details were saved", d.Person)
		}
		if errs := d.Check(); len(errs) > 0 {
			return fmt.Errorf("%s: %s: %s; no payout details were saved", d.Person, errs[0].Field, errs[0].Msg)
		}
		plain, err := json.Marshal(kept(d))
		if err != nil {
			return err
		}
		if records[i], err = v.Keys.seal(d.Person, plain); err != nil {
			return err
		}
	}
	return store.Parallel(len(details), saveWidth, func(i int) error {
		return v.Store.PutJSON(ctx, Key(details[i].Person), records[i])
	})
}

// Get opens a person's details; ErrNoDetails when there are none.
func (v Vault) Get(ctx context.Context, person string) (Details, error) {
	if err := v.Ready(); err != nil {
		return Details{}, err
	}
	if !personPattern.MatchString(person) {
		return Details{}, fmt.Errorf("%w: %q is not a roster id", ErrNoDetails, person)
	}
	var r sealedRecord
	if err := v.Store.GetJSON(ctx, Key(person), &r); errors.Is(err, store.ErrNotFound) {
		return Details{}, ErrNoDetails
	} else if err != nil {
		return Details{}, err
	}
	plain, err := v.Keys.open(person, r)
	if err != nil {
		return Details{}, err
	}
	var k keptDetails
	if err := json.Unmarshal(plain, &k); err != nil {
		return Details{}, fmt.Errorf("%s's payout details are damaged: %w", person, err)
	}
	d := Details(k)
	d.Person = person
	return d, nil
}

// Remove forgets a person's details.
func (v Vault) Remove(ctx context.Context, person string) error {
	if !personPattern.MatchString(person) {
		return nil
	}
	return v.Store.Delete(ctx, Key(person))
}

// keptDetails is the plaintext of a sealed record. Details' own JSON form is masked; this one is
// whole, and exists only between json.Marshal and sealing.
type keptDetails struct {
	Person        string `json:"person"`
	Holder        string `json:"holder"`
	IBAN          string `json:"iban,omitempty"`
	BIC           string `json:"bic,omitempty"`
	AccountNumber string `json:"account_number,omitempty"`
	BankCode      string `json:"bank_code,omitempty"`
	MSISDN        string `json:"msisdn,omitempty"`
	Operator      string `json:"operator,omitempty"`
}

func kept(d Details) keptDetails { return keptDetails(d) }
