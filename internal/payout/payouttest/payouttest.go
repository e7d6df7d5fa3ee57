// Package payouttest checks payout files the way the bank would: a pain.001 file against the ISO
// 20022 schema, with libxml2's xmllint (Debian's libxml2-utils; `make xmllint` installs it).
package payouttest

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// Pain001Schema is the path of the ISO 20022 pain.001.001.09 schema kept in the payout package's
// test data.
func Pain001Schema() string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(here), "..", "testdata", "pain.001.001.09.xsd")
}

// ValidatePain001 fails t unless data is valid against the pain.001.001.09 schema. Without xmllint
// it skips t, saying how to install it; under LABELFLOW_INTEGRATION=1 (make test) it fails instead,
// so that the check cannot pass by not running.
func ValidatePain001(t testing.TB, data []byte) {
	t.Helper()
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		msg := "xmllint is not installed, so pain.001 files are not checked against the ISO 20022 schema: `make xmllint` or apt-get install libxml2-utils"
		if os.Getenv("LABELFLOW_INTEGRATION") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	file := filepath.Join(t.TempDir(), "pain.001.xml")
	if err := os.WriteFile(file, data, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(xmllint, "--noout", "--nonet", "--schema", Pain001Schema(), file).CombinedOutput()
	if err != nil {
		t.Fatalf("the pain.001 file is not valid against the ISO 20022 schema: %v\n%s\n%s", err, out, data)
	}
}
