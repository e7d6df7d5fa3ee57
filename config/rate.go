package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Rate is a request rate with a burst: Burst requests at once, then PerSecond on average.
type Rate struct {
	PerSecond float64
	Burst     int
}

// rateUnits are the periods a rate may be given per.
var rateUnits = map[string]time.Duration{"s": time.Second, "m": time.Minute, "h": time.Hour}

// ParseRate reads a rate written as count/unit,burst: "5/s,20" is 5 a second with bursts of 20;
// the unit is s, m or h.
func ParseRate(text string) (Rate, error) {
	bad := func(why string) (Rate, error) {
		return Rate{}, fmt.Errorf("want count/unit,burst such as 5/s,20 (unit s, m or h): %s; got %q", why, text)
	}
	perUnit, burstText, ok := strings.Cut(strings.TrimSpace(text), ",")
	if !ok {
		return bad("no burst after a comma")
	}
	countText, unit, ok := strings.Cut(strings.TrimSpace(perUnit), "/")
	if !ok {
		return bad("no /unit")
	}
	period, ok := rateUnits[strings.TrimSpace(unit)]
	if !ok {
		return bad("unknown unit " + strconv.Quote(unit))
	}
	count, err := strconv.ParseFloat(strings.TrimSpace(countText), 64)
	if err != nil || count <= 0 || math.IsInf(count, 0) || math.IsNaN(count) {
		return bad("the count must be a number above 0")
	}
	burst, err := strconv.Atoi(strings.TrimSpace(burstText))
	if err != nil || burst < 1 {
		return bad("the burst must be a whole number of at least 1")
	}
	return Rate{PerSecond: count / period.Seconds(), Burst: burst}, nil
}

// GatewayRates are the gateway's three request limits.
type GatewayRates struct {
	PerToken, PerIP, SignInPerIP Rate
}

// ParseGatewayRates reads the gateway's limits, naming the variable whose text is bad.
func (c Config) ParseGatewayRates() (GatewayRates, error) {
	var r GatewayRates
	for _, f := range []struct {
		name, text string
		into       *Rate
	}{
		{"LABELFLOW_GATEWAY_RATE_PER_TOKEN", c.GatewayRatePerToken, &r.PerToken},
		{"LABELFLOW_GATEWAY_RATE_PER_IP", c.GatewayRatePerIP, &r.PerIP},
		{"LABELFLOW_GATEWAY_SIGNIN_PER_IP", c.GatewaySignInPerIP, &r.SignInPerIP},
	} {
		rate, err := ParseRate(f.text)
		if err != nil {
			return r, fmt.Errorf("%s: %w", f.name, err)
		}
		*f.into = rate
	}
	return r, nil
}

// checkGateway refuses gateway limits that cannot be applied.
func (c Config) checkGateway() error {
	if c.GatewayMaxConns < 1 {
		return fmt.Errorf("LABELFLOW_GATEWAY_MAX_CONNS must be at least 1, got %d", c.GatewayMaxConns)
	}
	if c.GatewayReadTimeout <= 0 {
		return fmt.Errorf("LABELFLOW_GATEWAY_READ_TIMEOUT must be above 0, got %s", c.GatewayReadTimeout)
	}
	_, err := c.ParseGatewayRates()
	return err
}
