package payoutdetails

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Keys encrypt payout details at rest, AES-256-GCM, each key under an id that the sealed record
// names. The first key seals; every key opens, so that a new key can be put first while records
// sealed under the old one are still read (they are sealed again under the new one when next
// imported).
type Keys struct {
	first string
	aeads map[string]cipher.AEAD
}

// MinSecret is the shortest secret a key may have.
const MinSecret = 32

var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,32}$`)

// hkdfInfo binds the derived AES keys to this one use of the secrets.
const hkdfInfo = "labelflow payout details AES-256-GCM v1"

// ParseKeys reads keys written id:secret[,id:secret] (LABELFLOW_PAYOUT_DETAILS_KEY). Each secret
// has at least MinSecret bytes; the AES-256 key is derived from it with HKDF-SHA256.
func ParseKeys(s string) (*Keys, error) {
	k := &Keys{aeads: map[string]cipher.AEAD{}}
	for _, part := range strings.Split(s, ",") {
		id, secret, ok := strings.Cut(strings.TrimSpace(part), ":")
		switch {
		case !ok || !keyIDPattern.MatchString(id):
			return nil, errors.New("write each key as id:secret, the id 1 to 32 letters, digits, '.', '_' or '-'")
		case len(secret) < MinSecret:
			return nil, fmt.Errorf("key %q: the secret must have at least %d bytes, it has %d", id, MinSecret, len(secret))
		case k.aeads[id] != nil:
			return nil, fmt.Errorf("key %q appears twice", id)
		}
		aead, err := newAEAD(secret)
		if err != nil {
			return nil, fmt.Errorf("key %q: %w", id, err)
		}
		k.aeads[id] = aead
		if k.first == "" {
			k.first = id
		}
	}
	return k, nil
}

func newAEAD(secret string) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, []byte(secret), nil, hkdfInfo, 32)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealedRecord is what the store holds for one person: the id of the key, a random nonce and the
// ciphertext with its tag.
type sealedRecord struct {
	KeyID string `json:"key_id"`
	Nonce []byte `json:"nonce"`
	Data  []byte `json:"data"`
}

// additionalData binds a record to its person: a record copied to another person's key does not
// open.
func additionalData(person string) []byte { return []byte("labelflow/payout-details/v1/" + person) }

func (k *Keys) seal(person string, plaintext []byte) (sealedRecord, error) {
	aead := k.aeads[k.first]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return sealedRecord{}, err
	}
	return sealedRecord{KeyID: k.first, Nonce: nonce, Data: aead.Seal(nil, nonce, plaintext, additionalData(person))}, nil
}

func (k *Keys) open(person string, r sealedRecord) ([]byte, error) {
	aead, ok := k.aeads[r.KeyID]
	if !ok {
		return nil, fmt.Errorf("%s's payout details are sealed under key %q, which LABELFLOW_PAYOUT_DETAILS_KEY does not hold", person, r.KeyID)
	}
	if len(r.Nonce) != aead.NonceSize() {
		return nil, fmt.Errorf("%s's payout details are damaged", person)
	}
	plain, err := aead.Open(nil, r.Nonce, r.Data, additionalData(person))
	if err != nil {
		return nil, fmt.Errorf("%s's payout details do not open under key %q: damaged, or not theirs", person, r.KeyID)
	}
	return plain, nil
}
