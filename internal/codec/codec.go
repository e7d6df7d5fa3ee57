// Package codec encrypts the payloads LabelFlow hands to Temporal: workflow inputs and results,
// signals, Updates (the `submit` Update carries answers and worker ids), queries, memos and
// activity arguments. Temporal stores them in its histories; with the codec they are stored as
// AES-256-GCM ciphertext under a named key, so histories on a shared or hosted cluster hold no
// client data in clear.
//
// Keys rotate: the first key encrypts, every listed key decrypts, and each payload names the key
// it was sealed with. Payloads without the codec's metadata (histories written before encryption
// was turned on) pass through unchanged.
package codec

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

// Metadata the codec writes on each payload it encrypts.
const (
	// Encoding is the value of the payload's "encoding" metadata: the codec server and the
	// Temporal UI show such payloads as encrypted until decoded.
	Encoding = "binary/encrypted"
	// MetadataKeyID names the key a payload was encrypted with.
	MetadataKeyID = "encryption-key-id"
	// MetadataCipher names the cipher, so that a later change of cipher can tell payloads apart.
	MetadataCipher = "encryption-cipher"
	cipherName     = "AES-256-GCM"
)

// ErrUnknownKey is a payload sealed with a key id none of the configured keys has.
var ErrUnknownKey = errors.New("payload encrypted with a key that is not configured")

// ErrTampered is a payload that does not open with the key it names.
var ErrTampered = errors.New("payload does not decrypt: altered, or sealed with another key under the same id")

// Codec is a converter.PayloadCodec that encrypts with AES-256-GCM.
type Codec struct {
	keys *Keys
	aead map[string]cipher.AEAD
}

// New returns a codec over keys (at least one).
func New(keys *Keys) (*Codec, error) {
	if keys == nil || len(keys.order) == 0 {
		return nil, errors.New("payload codec: no keys")
	}
	c := &Codec{keys: keys, aead: map[string]cipher.AEAD{}}
	for _, id := range keys.order {
		block, err := aes.NewCipher(keys.byID[id])
		if err != nil {
			return nil, fmt.Errorf("payload key %s: %w", id, err)
		}
		if c.aead[id], err = cipher.NewGCM(block); err != nil {
			return nil, fmt.Errorf("payload key %s: %w", id, err)
		}
	}
	return c, nil
}

// EncryptingKey is the id of the key new payloads are sealed with.
func (c *Codec) EncryptingKey() string { return c.keys.order[0] }

// Encode seals every payload with the first key.
func (c *Codec) Encode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	id := c.EncryptingKey()
	aead := c.aead[id]
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		plain, err := proto.Marshal(p)
		if err != nil {
			return payloads, fmt.Errorf("payload codec: %w", err)
		}
		nonce := make([]byte, aead.NonceSize())
		if _, err := rand.Read(nonce); err != nil {
			return payloads, fmt.Errorf("payload codec: %w", err)
		}
		out[i] = &commonpb.Payload{
			Metadata: map[string][]byte{
				converter.MetadataEncoding: []byte(Encoding),
				MetadataKeyID:              []byte(id),
				MetadataCipher:             []byte(cipherName),
			},
			// The key id is authenticated data: a payload relabelled with another id fails.
			Data: aead.Seal(nonce, nonce, plain, []byte(id)),
		}
	}
	return out, nil
}

// Decode opens every encrypted payload and passes any other through unchanged.
func (c *Codec) Decode(payloads []*commonpb.Payload) ([]*commonpb.Payload, error) {
	out := make([]*commonpb.Payload, len(payloads))
	for i, p := range payloads {
		if !Encrypted(p) {
			out[i] = p
			continue
		}
		plain, err := c.open(p)
		if err != nil {
			return payloads, err
		}
		out[i] = plain
	}
	return out, nil
}

func (c *Codec) open(p *commonpb.Payload) (*commonpb.Payload, error) {
	id := string(p.GetMetadata()[MetadataKeyID])
	aead, ok := c.aead[id]
	if !ok {
		return nil, fmt.Errorf("%w (key id %q; the configured keys are %v)", ErrUnknownKey, id, c.keys.order)
	}
	data := p.GetData()
	if len(data) < aead.NonceSize()+aead.Overhead() {
		return nil, fmt.Errorf("%w (key id %q: too short)", ErrTampered, id)
	}
	nonce, sealed := data[:aead.NonceSize()], data[aead.NonceSize():]
	plain, err := aead.Open(nil, nonce, sealed, []byte(id))
	if err != nil {
		return nil, fmt.Errorf("%w (key id %q)", ErrTampered, id)
	}
	var out commonpb.Payload
	if err := proto.Unmarshal(plain, &out); err != nil {
		return nil, fmt.Errorf("payload codec: decrypted payload: %w", err)
	}
	return &out, nil
}

// Encrypted reports whether the codec sealed p.
func Encrypted(p *commonpb.Payload) bool {
	return string(p.GetMetadata()[converter.MetadataEncoding]) == Encoding
}

// DataConverter is Temporal's default converter with payloads encrypted by c.
func DataConverter(c *Codec) converter.DataConverter {
	return converter.NewCodecDataConverter(converter.GetDefaultDataConverter(), c)
}

// FailureConverter also moves failure messages and stack traces into an encrypted payload: an
// error can quote what it failed on.
func FailureConverter(dc converter.DataConverter) converter.FailureConverter {
	return temporal.NewDefaultFailureConverter(temporal.DefaultFailureConverterOptions{DataConverter: dc, EncodeCommonAttributes: true})
}
