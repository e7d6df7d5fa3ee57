package payoutdetails

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// Published example IBANs (SWIFT IBAN registry and national bank examples).
var validIBANs = []string{"GB82WEST12345698765432", "DE89370400440532013000", "NL91ABNA0417164300", "BE68539007547034",
	"NO9386011117947", "FR1420041010050500013M02606"}

func TestCheckIBANAcceptsValidOnesAndCatchesEveryWrongDigit(t *testing.T) {
	for _, iban := range validIBANs {
		if err := CheckIBAN(iban); err != nil {
			t.Errorf("%s: %v", iban, err)
		}
		// Any one digit changed is caught by the mod-97 check digits.
		for i := 2; i < len(iban); i++ {
			if iban[i] < '0' || iban[i] > '9' {
				continue
			}
			for c := byte('0'); c <= '9'; c++ {
				if c == iban[i] {
					continue
				}
				bad := iban[:i] + string(c) + iban[i+1:]
				if err := CheckIBAN(bad); err == nil {
					t.Errorf("%s (from %s) accepted", bad, iban)
				}
			}
		}
	}
}

func TestCheckIBANSaysWhatIsWrong(t *testing.T) {
	for iban, want := range map[string]string{
		"GB82WEST1234569876543":  "a GB IBAN has 22 characters, this one has 21",
		"KE12345678901234567890": "KE has no IBAN",
		"gb82west12345698765432": "two letters, two check digits",
		"GB28WEST12345698765432": "check digits do not match",
		"GB82WEST12345689765432": "check digits do not match", // two digits swapped
	} {
		err := CheckIBAN(iban)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", iban, err, want)
		}
	}
}

func TestIBANCheckDigitsMakesValidIBANs(t *testing.T) {
	for _, iban := range validIBANs {
		if got := IBANCheckDigits(iban[:2] + "00" + iban[4:]); got != iban {
			t.Errorf("check digits of %s: %s", iban, got)
		}
	}
	if err := CheckIBAN(IBANCheckDigits("SN00SN0100152000048500003035")); err != nil {
		t.Errorf("a Senegalese IBAN: %v", err)
	}
}

func TestCheckNormalizesAndNamesEachBadField(t *testing.T) {
	d := Details{Person: "amina", Holder: "  Amina Wanjiru ", MSISDN: "+254 712-345 678", Operator: " MPesa "}
	if errs := d.Check(); errs != nil {
		t.Fatalf("valid mobile-money details refused: %v", errs)
	}
	if d.MSISDN != "+254712345678" || d.Operator != "mpesa" || d.Holder != "Amina Wanjiru" || d.Method() != MobileMoney {
		t.Fatalf("normalized to %+v", d.MSISDN+" "+d.Operator+" "+d.Holder)
	}
	b := Details{Person: "grace", Holder: "Grace O.", IBAN: "gb82 west 1234 5698 7654 32", BIC: "westgb2l"}
	if errs := b.Check(); errs != nil || b.IBAN != validIBANs[0] || b.BIC != "WESTGB2L" || b.Method() != BankTransfer {
		t.Fatalf("valid IBAN refused or not normalized: %v %s %s", errs, b.IBAN, b.BIC)
	}
	for _, c := range []struct {
		d     Details
		field string
	}{
		{Details{MSISDN: "+254712345678", Operator: "mpesa"}, "account_holder"},
		{Details{Holder: "A", MSISDN: "0712345678", Operator: "mpesa"}, "msisdn"},
		{Details{Holder: "A", MSISDN: "+2547123456789012", Operator: "mpesa"}, "msisdn"},
		{Details{Holder: "A", MSISDN: "+254712345678"}, "operator"},
		{Details{Holder: "A", MSISDN: "+254712345678", Operator: "mpesa", IBAN: validIBANs[0]}, "msisdn"},
		{Details{Holder: "A"}, "iban"},
		{Details{Holder: "A", AccountNumber: "0123456789"}, "bank_code"},
		{Details{Holder: "A", BankCode: "01"}, "account_number"},
		{Details{Holder: "A", AccountNumber: "0123456789", BIC: "KCB"}, "bic"},
		{Details{Holder: "A", IBAN: validIBANs[0], AccountNumber: "1"}, "account_number"},
		{Details{Holder: "A\x07", IBAN: validIBANs[0]}, "account_holder"},
		{Details{Holder: strings.Repeat("n", 141), IBAN: validIBANs[0]}, "account_holder"},
	} {
		errs := c.d.Check()
		found := false
		for _, e := range errs {
			found = found || e.Field == c.field
			if strings.Contains(e.Msg, "712345678") || strings.Contains(e.Msg, "0123456789") || strings.Contains(e.Msg, "WEST12345698765432") {
				t.Errorf("message repeats the account: %s", e.Msg)
			}
		}
		if !found {
			t.Errorf("%#v: errors %v, want one on %s", c.d, errs, c.field)
		}
	}
	ok := Details{Holder: "A", AccountNumber: "0123456789", BankCode: "01"}
	if errs := ok.Check(); errs != nil {
		t.Errorf("an account number with a bank code refused: %v", errs)
	}
}

func TestDetailsShowOnlyTheLastFourCharactersHoweverPrinted(t *testing.T) {
	for _, d := range []Details{
		{Person: "amina", Holder: "Amina Wanjiru", MSISDN: "+254712345678", Operator: "mpesa"},
		{Person: "grace", Holder: "Grace Okafor", IBAN: validIBANs[0], BIC: "WESTGB2L"},
		{Person: "kofi", Holder: "Kofi Mensah", AccountNumber: "0123456789", BankCode: "01"},
	} {
		js, err := json.Marshal(map[string]any{"d": d, "p": &d, "list": []Details{d}})
		if err != nil {
			t.Fatal(err)
		}
		last4 := d.Account()[len(d.Account())-4:]
		for _, out := range []string{fmt.Sprint(d), fmt.Sprintf("%v %+v %#v %s", d, d, d, &d), string(js)} {
			if strings.Contains(out, d.Account()[:len(d.Account())-4]) || strings.Contains(out, d.Holder) {
				t.Errorf("printed details show the account or holder: %s", out)
			}
			if !strings.Contains(out, "****"+last4) {
				t.Errorf("printed details lack the masked account ****%s: %s", last4, out)
			}
		}
	}
	if Mask("12") != "**" || Mask("") != "" {
		t.Error("short accounts are shown")
	}
}

func TestInventedDetailsAreValidAndStable(t *testing.T) {
	for _, country := range []string{"KE", "UG", "NG", "SN", "XX", ""} {
		for _, method := range []string{MobileMoney, BankTransfer} {
			d := Invent("sim-p-a-01", "Simulated annotator 1", country, method)
			again := Invent("sim-p-a-01", "Simulated annotator 1", country, method)
			if errs := d.Check(); errs != nil || d.Method() != method || d != again {
				t.Errorf("%s %s: %+v, %v", country, method, d.String(), errs)
			}
		}
	}
	if Invent("a", "A", "KE", MobileMoney).MSISDN == Invent("b", "B", "KE", MobileMoney).MSISDN {
		t.Error("two people were given the same number")
	}
}
