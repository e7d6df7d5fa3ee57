package payoutdetails

import (
	"fmt"
	"regexp"
)

// ibanLengths is the length of an IBAN in each country that has one, from the SWIFT IBAN
// registry (ISO 13616), with the national IBANs of the West and Central African monetary unions
// and of Madagascar, Algeria, Angola, Cape Verde and Mozambique that their banks issue although
// the registry does not list them. A country missing here has no IBAN: its accounts are an
// account number with the bank's code.
var ibanLengths = map[string]int{
	"AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BI": 27,
	"BR": 29, "BY": 28, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DJ": 27, "DK": 18, "DO": 28,
	"EE": 20, "EG": 29, "ES": 24, "FI": 18, "FK": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23,
	"GL": 18, "GR": 27, "GT": 28, "HN": 28, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26,
	"IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28, "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21,
	"LY": 25, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MN": 20, "MR": 27, "MT": 31, "MU": 30, "NI": 28,
	"NL": 18, "NO": 15, "OM": 23, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24, "RS": 22,
	"RU": 33, "SA": 24, "SC": 31, "SD": 18, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "SO": 23, "ST": 25,
	"SV": 28, "TL": 23, "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20, "YE": 30,
	// National IBANs outside the registry.
	"BJ": 28, "BF": 28, "CI": 28, "ML": 28, "NE": 28, "SN": 28, "TG": 28, "GW": 25,
	"CM": 27, "CF": 27, "CG": 27, "GA": 27, "GQ": 27, "TD": 27,
	"MG": 27, "DZ": 26, "AO": 25, "CV": 25, "MZ": 25,
}

var ibanShape = regexp.MustCompile(`^[A-Z]{2}[0-9]{2}[A-Z0-9]{1,30}$`)

// CheckIBAN checks a normalized IBAN (capitals, no spaces): its shape, its country's length and
// its ISO 7064 mod-97 check digits, which catch any one wrong character and most swaps.
func CheckIBAN(iban string) error {
	if !ibanShape.MatchString(iban) {
		return fmt.Errorf("must be an IBAN: two letters, two check digits, then up to 30 letters or digits")
	}
	want, ok := ibanLengths[iban[:2]]
	if !ok {
		return fmt.Errorf("%s has no IBAN: give the account_number and bank_code instead", iban[:2])
	}
	if len(iban) != want {
		return fmt.Errorf("a %s IBAN has %d characters, this one has %d", iban[:2], want, len(iban))
	}
	if ibanRemainder(iban) != 1 {
		return fmt.Errorf("the check digits do not match: a character is wrong, or two are swapped")
	}
	return nil
}

// ibanRemainder is the IBAN, its first four characters moved to the end and letters read as
// 10 to 35, modulo 97: 1 for a valid IBAN.
func ibanRemainder(iban string) int {
	rem := 0
	for _, c := range iban[4:] + iban[:4] {
		if c >= 'A' && c <= 'Z' {
			rem = (rem*100 + int(c-'A'+10)) % 97
		} else {
			rem = (rem*10 + int(c-'0')) % 97
		}
	}
	return rem
}

// IBANCheckDigits returns iban (normalized, with any two characters in places 3 and 4) with its
// correct check digits: for making up valid IBANs in tests and in simulation.
func IBANCheckDigits(iban string) string {
	rem := ibanRemainder(iban[:2] + "00" + iban[4:])
	return fmt.Sprintf("%s%02d%s", iban[:2], 98-rem, iban[4:])
}

// CheckBIC checks a BIC (ISO 9362): 8 or 11 capitals and digits.
func CheckBIC(bic string) error {
	if !bicPattern.MatchString(bic) {
		return fmt.Errorf("must be a BIC of 8 or 11 letters and digits, such as KCBLKENX")
	}
	return nil
}
