package payoutdetails

import (
	"errors"
	"strings"
	"testing"
)

func TestParseCSVReadsEachKindOfAccount(t *testing.T) {
	data := "ID,account_holder,msisdn,operator,iban,bic,account_number,bank_code\n" +
		"amina,Amina Wanjiru,+254 712 345 678,mpesa,,,,\n" +
		"grace,Grace Okafor,,,GB82 WEST 1234 5698 7654 32,,,\n" +
		"kofi,\"Mensah, Kofi\",,,,GHCBGHAC,0012345678,\n"
	entries, err := ParseCSV("details.csv", strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 || entries[0].Details.MSISDN != "+254712345678" || entries[1].Details.IBAN != validIBANs[0] ||
		entries[2].Details.Holder != "Mensah, Kofi" || entries[2].Details.BIC != "GHCBGHAC" || entries[2].Line != 4 {
		t.Fatalf("entries = %v", entries)
	}
}

func TestParseCSVNamesEveryBadLineAndImportsNothing(t *testing.T) {
	data := "id,account_holder,msisdn,operator,iban\n" +
		"amina,Amina,+254712345678,mpesa,\n" +
		"grace,Grace,,,GB82WEST12345698765433\n" +
		"amina,Amina,+254712345679,mpesa,\n" +
		"Bad/Id,X,0712345678,,\n" +
		"kofi,\"Kofi,+233,,\n"
	entries, err := ParseCSV("details.csv", strings.NewReader(data))
	var ie *ImportError
	if !errors.As(err, &ie) || entries != nil {
		t.Fatalf("entries %v, error %v", entries, err)
	}
	want := []string{"details.csv:3: iban: ", "details.csv:4: id: \"amina\" already on line 2", "details.csv:5: id: ",
		"details.csv:5: msisdn: ", "details.csv:5: operator: ", "details.csv:6: (line): "}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
	if len(ie.Lines) != len(want) {
		t.Errorf("%d bad lines, want %d: %v", len(ie.Lines), len(want), err)
	}
	for _, secret := range []string{"WEST12345698765433", "712345678", "0712345678"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("the error repeats an account (%s): %v", secret, err)
		}
	}
}

func TestParseCSVRefusesABadHeader(t *testing.T) {
	for data, want := range map[string]string{
		"id,account_holder,phone\n":  `details.csv:1: header: unknown column "phone"`,
		"id,iban\n":                  `details.csv:1: header: column "account_holder" is missing`,
		"id,account_holder,id\n":     `details.csv:1: header: column "id" appears twice`,
		"":                           "details.csv:1: header: EOF",
		"account_holder,msisdn,op\n": `unknown column "op"`,
	} {
		if _, err := ParseCSV("details.csv", strings.NewReader(data)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: %v, want %q", data, err, want)
		}
	}
}
