package codec

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// KeySize is the length of an AES-256 key.
const KeySize = 32

// Keys are the payload keys, by id, in the order given: the first encrypts.
type Keys struct {
	order []string
	byID  map[string][]byte
}

// IDs lists the key ids, the encrypting one first.
func (k *Keys) IDs() []string { return append([]string(nil), k.order...) }

var keyID = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// ParseKeys reads "id:base64key[,id:base64key]..." (newlines separate keys too, and lines that
// start with # are comments, so a keys file reads the same). Each key is 32 bytes, base64
// (standard or URL alphabet, padded or not); ids are unique.
func ParseKeys(s string) (*Keys, error) {
	k := &Keys{byID: map[string][]byte{}}
	for _, entry := range splitEntries(s) {
		id, encoded, ok := strings.Cut(entry, ":")
		id, encoded = strings.TrimSpace(id), strings.TrimSpace(encoded)
		if !ok || !keyID.MatchString(id) {
			return nil, fmt.Errorf("payload key %q: want id:base64key, the id of letters, digits, dot, dash or underscore", redact(entry))
		}
		if _, dup := k.byID[id]; dup {
			return nil, fmt.Errorf("payload key id %s appears twice", id)
		}
		key, err := decodeKey(encoded)
		if err != nil {
			return nil, fmt.Errorf("payload key %s: %w", id, err)
		}
		k.order = append(k.order, id)
		k.byID[id] = key
	}
	if len(k.order) == 0 {
		return nil, errors.New("no payload key given")
	}
	return k, nil
}

// LoadKeys reads the keys from the setting's value or from a file: one of the two, not both.
// With neither it returns nil: payloads are not encrypted.
func LoadKeys(inline, file string) (*Keys, error) {
	switch {
	case inline != "" && file != "":
		return nil, errors.New("LABELFLOW_PAYLOAD_KEYS and LABELFLOW_PAYLOAD_KEYS_FILE are both set; give the keys one way")
	case file != "":
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("LABELFLOW_PAYLOAD_KEYS_FILE: %w", err)
		}
		k, err := ParseKeys(string(data))
		if err != nil {
			return nil, fmt.Errorf("LABELFLOW_PAYLOAD_KEYS_FILE %s: %w", file, err)
		}
		return k, nil
	case inline != "":
		k, err := ParseKeys(inline)
		if err != nil {
			return nil, fmt.Errorf("LABELFLOW_PAYLOAD_KEYS: %w", err)
		}
		return k, nil
	}
	return nil, nil
}

func splitEntries(s string) []string {
	var out []string
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		for _, e := range strings.Split(line, ",") {
			if strings.TrimSpace(e) != "" {
				out = append(out, e)
			}
		}
	}
	return out
}

func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(s); err == nil {
			if len(b) != KeySize {
				return nil, fmt.Errorf("the key is %d bytes, want %d (AES-256): make one with `openssl rand -base64 32`", len(b), KeySize)
			}
			return b, nil
		}
	}
	return nil, errors.New("the key is not base64")
}

// redact keeps an entry's id and hides its key, for error messages.
func redact(entry string) string {
	if id, _, ok := strings.Cut(entry, ":"); ok {
		return strings.TrimSpace(id) + ":…"
	}
	if len(entry) > 8 {
		return entry[:4] + "…"
	}
	return entry
}
