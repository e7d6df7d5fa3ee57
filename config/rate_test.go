package config

import (
	"strings"
	"testing"
)

func TestParseRate(t *testing.T) {
	for text, want := range map[string]Rate{
		"5/s,20":       {PerSecond: 5, Burst: 20},
		" 0.5 / s , 3": {PerSecond: 0.5, Burst: 3},
		"120/m,10":     {PerSecond: 2, Burst: 10},
		"3600/h,1":     {PerSecond: 1, Burst: 1},
	} {
		if got, err := ParseRate(text); err != nil || got != want {
			t.Errorf("ParseRate(%q) = %+v, %v; want %+v", text, got, err, want)
		}
	}
	for text, why := range map[string]string{
		"5/s":     "no burst",
		"5,20":    "no /unit",
		"5/d,20":  "unknown unit",
		"0/s,20":  "above 0",
		"-1/s,20": "above 0",
		"x/s,20":  "above 0",
		"5/s,0":   "at least 1",
		"5/s,2.5": "at least 1",
		"":        "no burst",
	} {
		if _, err := ParseRate(text); err == nil || !strings.Contains(err.Error(), why) || !strings.Contains(err.Error(), "5/s,20") {
			t.Errorf("ParseRate(%q) = %v; want an error saying %q with an example", text, err, why)
		}
	}
}

func TestLoadRefusesBadGatewayLimits(t *testing.T) {
	for name, value := range map[string]string{
		"LABELFLOW_GATEWAY_RATE_PER_TOKEN": "fast",
		"LABELFLOW_GATEWAY_RATE_PER_IP":    "50/s",
		"LABELFLOW_GATEWAY_SIGNIN_PER_IP":  "1/s,0",
		"LABELFLOW_GATEWAY_MAX_CONNS":      "0",
		"LABELFLOW_GATEWAY_READ_TIMEOUT":   "0s",
	} {
		t.Run(name, func(t *testing.T) {
			clearEnv(t)
			t.Setenv(name, value)
			if _, err := Load(); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("Load with %s=%q: %v; want an error naming the variable", name, value, err)
			}
		})
	}
}
