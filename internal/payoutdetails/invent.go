package payoutdetails

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// callingCodes are the E.164 country codes of the countries LabelFlow's people work from.
var callingCodes = map[string]string{"KE": "254", "UG": "256", "RW": "250", "NG": "234", "GH": "233", "ET": "251",
	"TZ": "255", "ZA": "27", "SN": "221", "CI": "225", "CM": "237", "EG": "20", "MA": "212", "ZM": "260", "MW": "265"}

// operators is the mobile-money operator a made-up number is given, per country.
var operators = map[string]string{"KE": "mpesa", "TZ": "mpesa", "ET": "telebirr", "SN": "wave", "CI": "orange-money"}

// Invent makes up payout details for a simulated person: well formed and valid (an E.164 number
// with an operator, or an account number with a bank code and BIC) and the same on every call,
// but no one's account. Only people the simulator made up are paid to them, and only on the
// embedded stack.
func Invent(person, name, country, method string) Details {
	h := sha256.Sum256([]byte("labelflow simulated payout details/" + person))
	n := binary.BigEndian.Uint64(h[:8])
	if _, ok := callingCodes[country]; !ok {
		country = "KE"
	}
	if name == "" {
		name = person
	}
	d := Details{Person: person, Holder: name}
	if method == MobileMoney {
		d.MSISDN = fmt.Sprintf("+%s7%08d", callingCodes[country], n%100_000_000)
		d.Operator = operators[country]
		if d.Operator == "" {
			d.Operator = "mtn-momo"
		}
		return d
	}
	d.AccountNumber = fmt.Sprintf("%012d", n%1_000_000_000_000)
	d.BankCode = fmt.Sprintf("%02d", 1+n%68)
	d.BIC = "LFSM" + country + "NX"
	return d
}
