package app

import (
	"encoding/base64"
	"testing"

	"go.temporal.io/sdk/temporal"

	"github.com/labelflow/labelflow/internal/codec"
)

// A pending activity's last failure, read from a raw response, is shown decrypted.
func TestFailureMessageDecrypts(t *testing.T) {
	keys, err := codec.ParseKeys("k:" + base64.StdEncoding.EncodeToString(make([]byte, codec.KeySize)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := codec.New(keys)
	if err != nil {
		t.Fatal(err)
	}
	dc := codec.DataConverter(c)
	f := codec.FailureConverter(dc).ErrorToFailure(temporal.NewApplicationError("client bucket acme-out refused the upload", "Delivery"))
	if f.GetMessage() == "client bucket acme-out refused the upload" {
		t.Fatal("the failure's message is in clear")
	}
	a := &App{payloads: dc}
	if got := a.FailureMessage(f); got != "client bucket acme-out refused the upload" {
		t.Errorf("FailureMessage = %q", got)
	}
	if f.GetMessage() == "client bucket acme-out refused the upload" {
		t.Error("FailureMessage changed the response it read")
	}
	plain := temporal.GetDefaultFailureConverter().ErrorToFailure(temporal.NewApplicationError("timeout", "T"))
	if got := (&App{}).FailureMessage(plain); got != "timeout" {
		t.Errorf("without encryption: %q", got)
	}
	if got := a.FailureMessage(nil); got != "" {
		t.Errorf("no failure: %q", got)
	}
}
