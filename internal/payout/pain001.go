package payout

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math/big"
	"sort"
	"strings"
	"time"

	"github.com/labelflow/labelflow/internal/earnings"
	"github.com/labelflow/labelflow/internal/payoutdetails"
)

// Debtor is the account bank transfers are paid from (LABELFLOW_PAYOUT_DEBTOR).
type Debtor struct {
	Name string
	IBAN string
	BIC  string // empty when the bank needs none
}

// ParseDebtor reads NAME;IBAN;BIC (the BIC may be left empty: NAME;IBAN;). "" is no debtor.
func ParseDebtor(s string) (Debtor, error) {
	if strings.TrimSpace(s) == "" {
		return Debtor{}, nil
	}
	parts := strings.Split(s, ";")
	if len(parts) != 3 {
		return Debtor{}, fmt.Errorf("write the account bank transfers are paid from as NAME;IBAN;BIC, got %d part(s)", len(parts))
	}
	d := payoutdetails.Details{Holder: parts[0], IBAN: parts[1], BIC: parts[2]}
	if errs := d.Check(); errs != nil {
		return Debtor{}, fmt.Errorf("%s: %s", errs[0].Field, errs[0].Msg)
	}
	return Debtor{Name: d.Holder, IBAN: d.IBAN, BIC: d.BIC}, nil
}

// The elements of a pain.001.001.09 file LabelFlow writes, in the schema's order. Element names
// are the schema's; see testdata/pain.001.001.09.xsd.
type (
	painDocument struct {
		XMLName    xml.Name       `xml:"urn:iso:std:iso:20022:tech:xsd:pain.001.001.09 Document"` // ISO 20022 customer credit transfer initiation, version 9
		Initiation painInitiation `xml:"CstmrCdtTrfInitn"`
	}
	painInitiation struct {
		Header   painHeader    `xml:"GrpHdr"`
		Payments []painPayment `xml:"PmtInf"`
	}
	painHeader struct {
		MessageID string    `xml:"MsgId"`
		Created   string    `xml:"CreDtTm"`
		Count     int       `xml:"NbOfTxs"`
		Sum       string    `xml:"CtrlSum"`
		Initiator painParty `xml:"InitgPty"`
	}
	painParty struct {
		Name string `xml:"Nm"`
	}
	painPayment struct {
		ID            string         `xml:"PmtInfId"`
		Method        string         `xml:"PmtMtd"`
		BatchBooking  bool           `xml:"BtchBookg"`
		Count         int            `xml:"NbOfTxs"`
		Sum           string         `xml:"CtrlSum"`
		Execution     painDate       `xml:"ReqdExctnDt"`
		Debtor        painParty      `xml:"Dbtr"`
		DebtorAccount painAccount    `xml:"DbtrAcct"`
		DebtorAgent   painAgent      `xml:"DbtrAgt"`
		ChargeBearer  string         `xml:"ChrgBr"`
		Transfers     []painTransfer `xml:"CdtTrfTxInf"`
	}
	painDate struct {
		Date string `xml:"Dt"`
	}
	painAccount struct {
		IBAN  string     `xml:"Id>IBAN,omitempty"`
		Other *painOther `xml:"Id>Othr,omitempty"`
	}
	painOther struct {
		ID string `xml:"Id"`
	}
	painAgent struct {
		BIC      string        `xml:"FinInstnId>BICFI,omitempty"`
		Clearing *painClearing `xml:"FinInstnId>ClrSysMmbId,omitempty"`
		Other    *painOther    `xml:"FinInstnId>Othr,omitempty"`
	}
	painClearing struct {
		Member string `xml:"MmbId"`
	}
	painTransfer struct {
		EndToEndID      string      `xml:"PmtId>EndToEndId"`
		Amount          painMoney   `xml:"Amt>InstdAmt"`
		CreditorAgent   *painAgent  `xml:"CdtrAgt,omitempty"`
		Creditor        painParty   `xml:"Cdtr"`
		CreditorAccount painAccount `xml:"CdtrAcct"`
		Remittance      string      `xml:"RmtInf>Ustrd"`
	}
	painMoney struct {
		Currency string `xml:"Ccy,attr"`
		Value    string `xml:",chardata"`
	}
)

// pain001 writes a batch of bank transfers as one pain.001.001.09 file: one payment information
// block per currency, one credit transfer per payout, identified end to end by the payout's
// Reference. The debtor bears the charges (DEBT), so that people receive what their statement
// shows, and each transfer is booked on its own (no batch booking), as a payslip would be.
func pain001(debtor Debtor, messageID string, at time.Time, month string, batch []payable) ([]byte, error) {
	byCurrency := map[string][]payable{}
	for _, p := range batch {
		byCurrency[p.Currency] = append(byCurrency[p.Currency], p)
	}
	currencies := make([]string, 0, len(byCurrency))
	for c := range byCurrency {
		currencies = append(currencies, c)
	}
	sort.Strings(currencies)
	doc := painDocument{Initiation: painInitiation{Header: painHeader{
		MessageID: messageID, Created: at.UTC().Format("2006-01-02T15:04:05Z"), Count: len(batch),
		Sum: controlSum(batch), Initiator: painParty{Name: debtor.Name},
	}}}
	for _, c := range currencies {
		doc.Initiation.Payments = append(doc.Initiation.Payments, painPaymentOf(debtor, messageID+"-"+c, at, month, byCurrency[c]))
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	buf.WriteString("\n")
	return buf.Bytes(), nil
}

func painPaymentOf(debtor Debtor, id string, at time.Time, month string, batch []payable) painPayment {
	pay := painPayment{ID: id, Method: "TRF", Count: len(batch), Sum: controlSum(batch),
		Execution: painDate{Date: at.UTC().Format(time.DateOnly)}, Debtor: painParty{Name: debtor.Name},
		DebtorAccount: painAccount{IBAN: debtor.IBAN}, DebtorAgent: painAgent{BIC: debtor.BIC}, ChargeBearer: "DEBT"}
	if debtor.BIC == "" {
		pay.DebtorAgent.Other = &painOther{ID: "NOTPROVIDED"} // the agent is then known from the IBAN
	}
	for _, p := range batch {
		pay.Transfers = append(pay.Transfers, painTransferOf(p, month))
	}
	return pay
}

func painTransferOf(p payable, month string) painTransfer {
	t := painTransfer{EndToEndID: p.Reference(), Amount: painMoney{Currency: p.Currency, Value: earnings.FormatMinor(p.Amount, p.Currency)},
		Creditor: painParty{Name: p.to.Holder}, Remittance: "LabelFlow pay " + month}
	if p.to.IBAN != "" {
		t.CreditorAccount.IBAN = p.to.IBAN
	} else {
		t.CreditorAccount.Other = &painOther{ID: p.to.AccountNumber}
	}
	if p.to.BIC != "" || p.to.BankCode != "" {
		t.CreditorAgent = &painAgent{BIC: p.to.BIC}
	}
	if p.to.BankCode != "" {
		t.CreditorAgent.Clearing = &painClearing{Member: p.to.BankCode}
	}
	return t
}

// controlSum is the sum of the amounts in major units, whatever their currencies, as the schema's
// CtrlSum checks it: exactly, with as many decimals as the currency with most minor digits.
func controlSum(batch []payable) string {
	sum, digits := new(big.Rat), 0
	for _, p := range batch {
		exp, _ := earnings.CurrencyExponent(p.Currency) // holdUnwritable let through only known currencies
		digits = max(digits, exp)
		sum.Add(sum, new(big.Rat).SetFrac(big.NewInt(p.Amount), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(exp)), nil)))
	}
	return sum.FloatString(digits)
}
