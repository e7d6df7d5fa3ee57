//go:build linux

package cluster

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/labelflow/labelflow/config"
	"github.com/labelflow/labelflow/internal/payoutdetails"
	"github.com/labelflow/labelflow/internal/role"
	"github.com/labelflow/labelflow/internal/simulate"
	"github.com/labelflow/labelflow/internal/workforce"
)

// The cluster runs LabelFlow's production configuration (LABELFLOW_STACK=production): every key
// is made for the cluster when it starts, the client's bucket is reached through a delivery
// profile and a clients file written like an operator's, and people are imported into the roster
// and their payout details into the vault with LabelFlow's own commands. What one machine cannot
// give as production would is listed in Cluster.Deviations.

// Names of the cluster's client, its delivery profile and its people's files.
const (
	clientID       = "acme"
	clientProfile  = "acme"
	payloadKeyID   = "cluster"
	grantKeyID     = "cluster"
	detailsKeyID   = "cluster"
	rosterDirName  = "people"
	storeAccessLen = 20
)

// clusterDebtor is the account the cluster's bank transfers are paid from: the published test
// IBAN of the ISO 13616 examples, with its bank's BIC.
const clusterDebtor = "LabelFlow Cluster Ltd;DE89370400440532013000;COBADEFFXXX"

// account is a pair of S3 keys.
type account struct{ AccessKey, SecretKey string }

// newAccount makes fresh S3 keys: an access key of storeAccessLen capitals and digits, as S3's
// look, and a 40-character secret.
func newAccount() (account, error) {
	b := make([]byte, storeAccessLen+30)
	if _, err := rand.Read(b); err != nil {
		return account{}, err
	}
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	access := make([]byte, storeAccessLen)
	for i := range access {
		access[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return account{AccessKey: string(access), SecretKey: base64.RawURLEncoding.EncodeToString(b[storeAccessLen:])}, nil
}

// newSecret is 32 random bytes, hex-encoded: 64 characters, above every minimum LabelFlow sets.
func newSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// productionTrust sets cfg's stack to production with fresh keys, the platform store's keys
// among them, and writes the payload keys into a file of dir, as a secret store would mount it.
func productionTrust(cfg config.Config, dir string) (config.Config, error) {
	store, err := newAccount()
	if err != nil {
		return cfg, err
	}
	secrets := make([]string, 4)
	for i := range secrets {
		if secrets[i], err = newSecret(); err != nil {
			return cfg, err
		}
	}
	payloadKey := make([]byte, 32)
	if _, err := rand.Read(payloadKey); err != nil {
		return cfg, err
	}
	keysFile := filepath.Join(dir, "payload-keys")
	if err := os.WriteFile(keysFile, []byte(payloadKeyID+":"+base64.StdEncoding.EncodeToString(payloadKey)+"\n"), 0o600); err != nil {
		return cfg, err
	}
	cfg.Stack = config.StackProduction
	cfg.StoreAccessKey, cfg.StoreSecretKey = store.AccessKey, store.SecretKey
	cfg.GrantKeys = grantKeyID + ":" + secrets[0]
	cfg.TokenPepper, cfg.PseudonymKey = secrets[1], secrets[2]
	cfg.PayoutDetailsKey = detailsKeyID + ":" + secrets[3]
	cfg.PayloadKeys, cfg.PayloadKeysFile, cfg.PayloadPlaintext = "", keysFile, false
	cfg.PayoutProvider, cfg.PayoutDebtor = "file", clusterDebtor
	return cfg, nil
}

// writeClientFiles writes the delivery profiles file, with the client's secret in a file of its
// own, and the clients file that gives the client its intake prefix and its bucket at endpoint,
// and points cfg at them. The bucket is on this machine, so private endpoints are allowed.
func writeClientFiles(cfg config.Config, dir, intakeBucket, clientBucket, endpoint string, client account) (config.Config, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return cfg, err
	}
	secretFile := filepath.Join(dir, "acme-delivery-secret")
	profiles := filepath.Join(dir, "delivery-profiles.yaml")
	clients := filepath.Join(dir, "clients.yaml")
	files := []struct{ path, text string }{
		{secretFile, client.SecretKey + "\n"},
		{profiles, fmt.Sprintf("profiles:\n  %s:\n    access_key_id: %s\n    secret_access_key_file: %s\n", clientProfile, client.AccessKey, secretFile)},
		{clients, fmt.Sprintf("clients:\n  %s:\n    intake: [s3://%s/%s/]\n    delivery_buckets:\n      - {bucket: %s, endpoint: %q}\n    delivery_profiles: [%s]\n",
			clientID, intakeBucket, clientID, clientBucket, u.Host, clientProfile)},
	}
	for _, f := range files {
		if err := os.WriteFile(f.path, []byte(f.text), 0o600); err != nil {
			return cfg, err
		}
	}
	cfg.DeliveryProfiles, cfg.Clients, cfg.EgressAllowPrivate = profiles, clients, true
	return cfg, nil
}

// Deviations are the settings of the cluster that differ from a production deployment because
// everything runs on one machine, one line each; the cluster test logs them.
func (c *Cluster) Deviations() []string {
	return []string{
		"LABELFLOW_EGRESS_ALLOW_PRIVATE=true: the client's bucket is on this machine's S3 server (127.0.0.1, plain http); a client's endpoint in production is public and https",
		"LABELFLOW_STORE_ENDPOINT is plain http on 127.0.0.1: LabelFlow has no setting for the platform store's CA, and the store never leaves this machine",
		"LABELFLOW_GATEWAY_RATE_PER_TOKEN and _PER_IP are lifted: the simulated crowd works without pause, every person from 127.0.0.1",
		"the Temporal frontend's TLS asks no client certificate (no mutual TLS): every process trusts the cluster's own CA",
	}
}

// checkConfig runs `labelflow config --check` in the processes' environment: it must pass.
func (c *Cluster) checkConfig(ctx context.Context) error {
	out, err := c.labelflow(ctx, "config", "--check")
	if err != nil {
		return fmt.Errorf("labelflow config --check in the cluster's production configuration: %w\n%s", err, out)
	}
	c.opts.Log.Info().Str("output", out).Msg("labelflow config --check")
	c.ConfigCheck = out
	return nil
}

// labelflow runs a `labelflow` command in the processes' environment and returns its output.
func (c *Cluster) labelflow(ctx context.Context, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, c.labelflowBin(), args...)
	cmd.Env = c.environ()
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// ImportPeople imports people into the roster with the tokens they hold, and the payout details
// of those among them who are paid, as ops do: CSV files given to `labelflow workforce import`
// and `labelflow workforce payout-details import`. name names the files.
func (c *Cluster) ImportPeople(ctx context.Context, name string, people []simulate.Person, details []payoutdetails.Details) error {
	dir := filepath.Join(c.opts.Dir, rosterDirName)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	roster := [][]string{{"id", "name", "country", "role", "token", "languages", "payout_method"}}
	for _, p := range people {
		roster = append(roster, []string{p.ID, p.Name, p.Country, p.Role, p.Token, strings.Join(p.Languages, ";"), p.PayoutMethod})
	}
	rosterFile := filepath.Join(dir, name+"-roster.csv")
	if err := writeCSV(rosterFile, roster); err != nil {
		return err
	}
	if out, err := c.labelflow(ctx, "workforce", "import", rosterFile); err != nil {
		return fmt.Errorf("labelflow workforce import %s: %w\n%s", rosterFile, err, out)
	}
	if len(details) == 0 {
		return nil
	}
	rows := [][]string{{"id", "account_holder", "iban", "bic", "account_number", "bank_code", "msisdn", "operator"}}
	for _, d := range details {
		rows = append(rows, []string{d.Person, d.Holder, d.IBAN, d.BIC, d.AccountNumber, d.BankCode, d.MSISDN, d.Operator})
	}
	detailsFile := filepath.Join(dir, name+"-payout-details.csv")
	if err := writeCSV(detailsFile, rows); err != nil {
		return err
	}
	if out, err := c.labelflow(ctx, "workforce", "payout-details", "import", detailsFile); err != nil {
		return fmt.Errorf("labelflow workforce payout-details import %s: %w\n%s", detailsFile, err, out)
	}
	return nil
}

func writeCSV(file string, rows [][]string) error {
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	if err := w.WriteAll(rows); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// Staff are the cluster's ops and finance people, with the tokens they sign in with.
type Staff struct {
	OpsToken, FinanceToken string
}

// importStaff imports an ops person, who launches projects, and a finance person, who approves
// payroll, each with a new token.
func (c *Cluster) importStaff(ctx context.Context) error {
	var people []simulate.Person
	for _, p := range []workforce.Person{
		{ID: "ops-1", Name: "Olu Ops", Country: "NG", Role: role.Ops, PayoutMethod: payoutdetails.BankTransfer},
		{ID: "finance-1", Name: "Fatuma Finance", Country: "KE", Role: role.Finance, PayoutMethod: payoutdetails.BankTransfer},
	} {
		token, err := workforce.NewToken()
		if err != nil {
			return err
		}
		people = append(people, simulate.Person{Person: p, Token: token})
	}
	c.Staff = Staff{OpsToken: people[0].Token, FinanceToken: people[1].Token}
	return c.ImportPeople(ctx, "staff", people, nil)
}

// callingCodes are the E.164 country codes of the crowd's countries.
var callingCodes = map[string]string{"KE": "254", "UG": "256", "RW": "250", "NG": "234", "GH": "233", "ET": "251"}

// PayoutDetailsFor gives a person of the cluster's crowd payout details for their payout
// method, the same on every call: a mobile-money number in their country, or a bank account
// (an account number with its bank's code and BIC: their countries have no IBAN).
func PayoutDetailsFor(p workforce.Person) payoutdetails.Details {
	h := fnv.New64a()
	h.Write([]byte(p.ID))
	n := h.Sum64()
	d := payoutdetails.Details{Person: p.ID, Holder: p.Name}
	if p.PayoutMethod == payoutdetails.MobileMoney {
		d.MSISDN = fmt.Sprintf("+%s7%08d", callingCodes[p.Country], n%100_000_000)
		d.Operator = "mtn-momo"
		if p.Country == "KE" {
			d.Operator = "mpesa"
		}
		return d
	}
	d.AccountNumber, d.BankCode, d.BIC = fmt.Sprintf("%012d", n%1_000_000_000_000), "01", "KCBLKENX"
	return d
}
