package codec

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"google.golang.org/protobuf/proto"
)

// newKey is a random key, base64.
func newKey(t testing.TB) string {
	t.Helper()
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

func mustCodec(t testing.TB, keys string) *Codec {
	t.Helper()
	k, err := ParseKeys(keys)
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(k)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// submit is what a `submit` Update carries: answers and who gave them.
type submit struct {
	Worker  string
	Answers []string
}

func TestRoundTripHidesTheData(t *testing.T) {
	c := mustCodec(t, "k1:"+newKey(t))
	dc := DataConverter(c)
	in := submit{Worker: "annotator-amina-0042", Answers: []string{"positive", "the kettle was broken on arrival"}}
	p, err := dc.ToPayload(in)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := proto.Marshal(p)
	for _, secret := range []string{"annotator-amina-0042", "positive", "kettle", "json/plain"} {
		if bytes.Contains(raw, []byte(secret)) {
			t.Errorf("the encoded payload shows %q in clear", secret)
		}
	}
	if !Encrypted(p) || string(p.Metadata[MetadataKeyID]) != "k1" || string(p.Metadata[MetadataCipher]) != "AES-256-GCM" {
		t.Errorf("metadata = %q", p.Metadata)
	}
	var out submit
	if err := dc.FromPayload(p, &out); err != nil {
		t.Fatal(err)
	}
	if out.Worker != in.Worker || !slices.Equal(out.Answers, in.Answers) {
		t.Errorf("round trip = %+v, want %+v", out, in)
	}
	// Two encodings of the same value differ (a fresh nonce each time).
	p2, _ := dc.ToPayload(in)
	if bytes.Equal(p.Data, p2.Data) {
		t.Error("the same value encrypted twice gave the same bytes")
	}
}

// A key added first encrypts from then on; payloads sealed with the old one still open, and once
// the old key is removed they are refused by name, not garbled.
func TestRotation(t *testing.T) {
	oldKey, newK := newKey(t), newKey(t)
	before := mustCodec(t, "2025-01:"+oldKey)
	sealed, err := before.Encode([]*commonpb.Payload{plainPayload("old answer")})
	if err != nil {
		t.Fatal(err)
	}
	after := mustCodec(t, "2026-06:"+newK+",2025-01:"+oldKey)
	opened, err := after.Decode(sealed)
	if err != nil {
		t.Fatalf("the rotated codec does not open a payload of the old key: %v", err)
	}
	if string(opened[0].Data) != "old answer" {
		t.Errorf("opened %q", opened[0].Data)
	}
	fresh, _ := after.Encode([]*commonpb.Payload{plainPayload("new answer")})
	if got := string(fresh[0].Metadata[MetadataKeyID]); got != "2026-06" {
		t.Errorf("new payloads sealed with %q, want the first key", got)
	}
	retired := mustCodec(t, "2026-06:"+newK)
	if _, err := retired.Decode(sealed); !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), `"2025-01"`) {
		t.Errorf("a payload of a retired key: %v, want ErrUnknownKey naming it", err)
	}
}

func TestTamperingIsRefused(t *testing.T) {
	key := newKey(t)
	c := mustCodec(t, "a:"+key+",b:"+key)
	sealed, _ := c.Encode([]*commonpb.Payload{plainPayload("label=positive")})
	for name, tamper := range map[string]func(p *commonpb.Payload){
		"a flipped bit":   func(p *commonpb.Payload) { p.Data[len(p.Data)-3] ^= 1 },
		"a cut tail":      func(p *commonpb.Payload) { p.Data = p.Data[:len(p.Data)-1] },
		"too short":       func(p *commonpb.Payload) { p.Data = p.Data[:5] },
		"relabelled key":  func(p *commonpb.Payload) { p.Metadata[MetadataKeyID] = []byte("b") }, // same key bytes, other id
		"a changed nonce": func(p *commonpb.Payload) { p.Data[0] ^= 0x80 },
	} {
		t.Run(name, func(t *testing.T) {
			p := proto.Clone(sealed[0]).(*commonpb.Payload)
			tamper(p)
			if _, err := c.Decode([]*commonpb.Payload{p}); !errors.Is(err, ErrTampered) {
				t.Errorf("Decode = %v, want ErrTampered", err)
			}
		})
	}
}

// Histories written before encryption was turned on hold plain payloads: they decode as they are.
func TestPlainPayloadsPassThrough(t *testing.T) {
	c := mustCodec(t, "k:"+newKey(t))
	plain, err := converter.GetDefaultDataConverter().ToPayload(submit{Worker: "w-1"})
	if err != nil {
		t.Fatal(err)
	}
	var out submit
	if err := DataConverter(c).FromPayload(plain, &out); err != nil || out.Worker != "w-1" {
		t.Fatalf("a plain payload through the codec: %+v, %v", out, err)
	}
}

func TestFailureMessagesAreEncrypted(t *testing.T) {
	dc := DataConverter(mustCodec(t, "k:"+newKey(t)))
	fc := FailureConverter(dc)
	f := fc.ErrorToFailure(temporal.NewApplicationError("item review-00007 answered positive by annotator-amina", "Invalid"))
	raw, _ := proto.Marshal(f)
	if bytes.Contains(raw, []byte("annotator-amina")) {
		t.Error("the failure shows its message in clear")
	}
	var appErr *temporal.ApplicationError
	if err := fc.FailureToError(f); !errors.As(err, &appErr) || !strings.Contains(appErr.Error(), "annotator-amina") || appErr.Type() != "Invalid" {
		t.Errorf("decoded failure = %v", err)
	}
}

func TestParseKeys(t *testing.T) {
	key := newKey(t)
	k, err := ParseKeys("# rotated June 2026\nnew:" + key + "\n\nold:" + strings.TrimRight(key, "=") + " , url:" + base64.RawURLEncoding.EncodeToString(make([]byte, 32)))
	if err != nil {
		t.Fatal(err)
	}
	if got := k.IDs(); !slices.Equal(got, []string{"new", "old", "url"}) {
		t.Errorf("ids = %v", got)
	}
	for _, tc := range []struct{ in, says string }{
		{"", "no payload key"},
		{"k1", "want id:base64key"},
		{"k 1:" + key, "want id:base64key"},
		{"k1:" + base64.StdEncoding.EncodeToString([]byte("sixteen byte key")), "16 bytes, want 32"},
		{"k1:not base64!", "not base64"},
		{"k1:" + key + ",k1:" + key, "appears twice"},
	} {
		_, err := ParseKeys(tc.in)
		if err == nil || !strings.Contains(err.Error(), tc.says) {
			t.Errorf("ParseKeys(%.20q) = %v, want %q", tc.in, err, tc.says)
		}
		if err != nil && strings.Contains(err.Error(), key) {
			t.Errorf("an error shows the key: %v", err)
		}
	}
}

func TestLoadKeys(t *testing.T) {
	key := newKey(t)
	if k, err := LoadKeys("", ""); k != nil || err != nil {
		t.Errorf("no keys = %v, %v, want none", k, err)
	}
	file := filepath.Join(t.TempDir(), "payload-keys")
	if err := os.WriteFile(file, []byte("k2:"+key+"\nk1:"+key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	k, err := LoadKeys("", file)
	if err != nil || !slices.Equal(k.IDs(), []string{"k2", "k1"}) {
		t.Errorf("from a file: %v, %v", k, err)
	}
	if _, err := LoadKeys("k:"+key, file); err == nil || !strings.Contains(err.Error(), "both set") {
		t.Errorf("both ways: %v", err)
	}
	if _, err := LoadKeys("", filepath.Join(t.TempDir(), "missing")); err == nil || !strings.Contains(err.Error(), "LABELFLOW_PAYLOAD_KEYS_FILE") {
		t.Errorf("a missing file: %v", err)
	}
	if _, err := LoadKeys("k:short", ""); err == nil || !strings.Contains(err.Error(), "LABELFLOW_PAYLOAD_KEYS") {
		t.Errorf("a bad inline key: %v", err)
	}
}

func plainPayload(s string) *commonpb.Payload {
	return &commonpb.Payload{Metadata: map[string][]byte{converter.MetadataEncoding: []byte("binary/plain")}, Data: []byte(s)}
}
