// Package payoutdetails keeps where each person is paid: a bank account (an IBAN, or an account
// number with its bank's code) or a mobile-money number with its operator, and the account
// holder's name. Details are checked as they come in (IBAN check digits, E.164 numbers), kept
// encrypted at rest (AES-256-GCM, see Vault), and shown only masked: a Details printed, logged or
// encoded as JSON gives the last four characters of the account and nothing else.
package payoutdetails

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Payout methods, as the roster names them.
const (
	BankTransfer = "bank-transfer"
	MobileMoney  = "mobile-money"
)

// Details are where one person is paid. Exactly one kind is set: IBAN (with an optional BIC), or
// AccountNumber with BankCode and/or BIC, or MSISDN with Operator.
type Details struct {
	Person string
	// Holder is the account holder's name, as the bank or the operator knows it.
	Holder        string
	IBAN          string
	BIC           string
	AccountNumber string
	// BankCode is the national bank or branch code (the clearing system member id).
	BankCode string
	// MSISDN is the mobile-money number in E.164 form: "+" and up to 15 digits.
	MSISDN string
	// Operator names the mobile-money operator, such as mpesa or mtn-momo.
	Operator string
}

// Method is how d pays: BankTransfer or MobileMoney.
func (d Details) Method() string {
	if d.MSISDN != "" || d.Operator != "" {
		return MobileMoney
	}
	return BankTransfer
}

// Account is the number money goes to: the IBAN, the account number or the MSISDN.
func (d Details) Account() string {
	switch {
	case d.IBAN != "":
		return d.IBAN
	case d.AccountNumber != "":
		return d.AccountNumber
	}
	return d.MSISDN
}

// Masked shows the account as people other than its holder may see it: its last four characters.
func (d Details) Masked() string {
	return Mask(d.Account())
}

// Mask hides all but the last four characters of an account number.
func Mask(account string) string {
	if len(account) <= 4 {
		return strings.Repeat("*", len(account))
	}
	return "****" + account[len(account)-4:]
}

// String is the masked form, so that a Details printed or logged by mistake shows no account.
func (d Details) String() string {
	if d.Method() == MobileMoney {
		return fmt.Sprintf("%s %s %s", MobileMoney, d.Operator, d.Masked())
	}
	return fmt.Sprintf("%s %s", BankTransfer, d.Masked())
}

// GoString is the masked form too (%#v).
func (d Details) GoString() string { return "payoutdetails.Details{" + d.String() + "}" }

// MarshalJSON encodes the masked form: details that reach a log line, a workflow history or an
// answer of the API by way of JSON carry no account number and no holder's name.
func (d Details) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Person  string `json:"person"`
		Method  string `json:"method"`
		Account string `json:"account"`
	}{d.Person, d.Method(), d.Masked()})
}

// FieldError is one problem with one field of a person's details, named as the CSV column.
type FieldError struct {
	Field string
	Msg   string
}

var (
	bicPattern      = regexp.MustCompile(`^[A-Z0-9]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$`)
	accountPattern  = regexp.MustCompile(`^[A-Za-z0-9]{1,34}$`)
	bankCodePattern = regexp.MustCompile(`^[A-Za-z0-9]{1,35}$`)
	e164Pattern     = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
	operatorPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,31}$`)
)

// maxHolder is the longest name a pain.001 file takes (Max140Text).
const maxHolder = 140

// Normalize writes d's numbers the one way they are kept: IBAN and BIC in capitals without spaces,
// account numbers and phone numbers without spaces, dashes or brackets, the operator in lower case.
func (d *Details) Normalize() {
	squeeze := func(s string) string {
		return strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) || r == '-' || r == '(' || r == ')' || r == '.' {
				return -1
			}
			return r
		}, s)
	}
	d.Holder = strings.TrimSpace(d.Holder)
	d.IBAN = strings.ToUpper(squeeze(d.IBAN))
	d.BIC = strings.ToUpper(squeeze(d.BIC))
	d.AccountNumber = squeeze(d.AccountNumber)
	d.BankCode = squeeze(d.BankCode)
	d.MSISDN = squeeze(d.MSISDN)
	d.Operator = strings.ToLower(strings.TrimSpace(d.Operator))
}

// Check normalizes d and returns what is wrong with it, field by field; nil when it can be paid
// to. Messages never repeat an account number.
func (d *Details) Check() []FieldError {
	d.Normalize()
	var errs []FieldError
	fail := func(field, format string, args ...any) {
		errs = append(errs, FieldError{field, fmt.Sprintf(format, args...)})
	}
	checkHolder(d.Holder, fail)
	bank := d.IBAN != "" || d.AccountNumber != "" || d.BankCode != "" || d.BIC != ""
	mobile := d.MSISDN != "" || d.Operator != ""
	switch {
	case bank && mobile:
		fail("msisdn", "give a bank account or a mobile-money number, not both")
	case mobile:
		d.checkMobile(fail)
	case bank:
		d.checkBank(fail)
	default:
		fail("iban", "no account: give an iban, an account_number with its bank_code or bic, or an msisdn with its operator")
	}
	return errs
}

func checkHolder(name string, fail func(field, format string, args ...any)) {
	switch {
	case name == "":
		fail("account_holder", "is required: the name the account is held in")
	case utf8.RuneCountInString(name) > maxHolder:
		fail("account_holder", "is longer than %d characters", maxHolder)
	case strings.ContainsFunc(name, unicode.IsControl):
		fail("account_holder", "holds a control character")
	}
}

func (d *Details) checkBank(fail func(field, format string, args ...any)) {
	if d.BIC != "" {
		if err := CheckBIC(d.BIC); err != nil {
			fail("bic", "%v", err)
		}
	}
	if d.IBAN != "" {
		if d.AccountNumber != "" || d.BankCode != "" {
			fail("account_number", "give an iban, or an account_number with its bank_code, not both")
		}
		if err := CheckIBAN(d.IBAN); err != nil {
			fail("iban", "%v", err)
		}
		return
	}
	switch {
	case d.AccountNumber == "":
		fail("account_number", "is required with a bank_code or bic (or give an iban)")
	case !accountPattern.MatchString(d.AccountNumber):
		fail("account_number", "must be 1 to 34 letters or digits")
	}
	switch {
	case d.BankCode == "" && d.BIC == "":
		fail("bank_code", "an account number needs its bank_code or bic")
	case d.BankCode != "" && !bankCodePattern.MatchString(d.BankCode):
		fail("bank_code", "must be 1 to 35 letters or digits")
	}
}

func (d *Details) checkMobile(fail func(field, format string, args ...any)) {
	if !e164Pattern.MatchString(d.MSISDN) {
		fail("msisdn", "must be an E.164 number: '+', the country code and the number, 15 digits at most, such as +254700123456")
	}
	if !operatorPattern.MatchString(d.Operator) {
		fail("operator", "must name the mobile-money operator in lower-case letters, digits and '-', such as mpesa or mtn-momo")
	}
}
