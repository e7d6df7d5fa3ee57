package earnings

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/bojanz/currency"
)

// CurrencyExponent returns the number of minor-unit digits of an active ISO 4217 currency code,
// as ISO 4217's own list gives it (through github.com/bojanz/currency, which carries that list):
// 2 for KES and USD, 0 for UGX, JPY, PYG, VUV and XPF, 3 for KWD and BHD. A code that is not an
// active ISO 4217 currency with minor units (a typo, a withdrawn code, gold XAU or the testing
// code XTS) is an error: guessing two digits would pay 100 times too much or too little.
func CurrencyExponent(code string) (int, error) {
	if !isUpper(code, 3) {
		return 0, fmt.Errorf("%q is not an ISO 4217 currency code (three capital letters, such as KES)", code)
	}
	digits, ok := currency.GetDigits(code)
	if !ok {
		return 0, fmt.Errorf("%q is not an active ISO 4217 currency code with minor units", code)
	}
	return int(digits), nil
}

// FormatMinor renders an amount in minor units of currency code as a plain decimal in its major unit,
// without grouping or symbol: (123450, "KES") → "1234.50", (1500, "UGX") → "1500",
// (1234, "KWD") → "1.234". A code CurrencyExponent rejects is rendered with two decimals.
func FormatMinor(v int64, code string) string {
	exp, err := CurrencyExponent(code)
	if err != nil {
		exp = 2
	}
	neg := v < 0
	u := uint64(v)
	if neg {
		u = -u // two's complement: correct for math.MinInt64 too
	}
	digits := strconv.FormatUint(u, 10)
	if exp > 0 {
		if len(digits) <= exp {
			digits = strings.Repeat("0", exp-len(digits)+1) + digits
		}
		digits = digits[:len(digits)-exp] + "." + digits[len(digits)-exp:]
	}
	if neg {
		return "-" + digits
	}
	return digits
}

func isUpper(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return true
}

// parseDecimal reads a non-negative decimal written as digits with an optional fractional part
// ("129.35", "2", "0.0077"): no sign, exponent, grouping or leading dot. maxFrac limits the number
// of fractional digits; a negative maxFrac means no limit.
func parseDecimal(s string, maxFrac int) (*big.Rat, error) {
	whole, frac, dot := strings.Cut(s, ".")
	if s == "" {
		return nil, fmt.Errorf("is empty, want a decimal such as 120.50")
	}
	if !allDigits(whole) || (dot && !allDigits(frac)) {
		if strings.HasPrefix(s, "-") {
			return nil, fmt.Errorf("%q is negative", s)
		}
		return nil, fmt.Errorf("%q is not a decimal such as 120.50 (digits, an optional point and digits)", s)
	}
	if maxFrac >= 0 && len(frac) > maxFrac {
		return nil, fmt.Errorf("%q has more than %d decimal places", s, maxFrac)
	}
	if len(whole) > 30 {
		return nil, fmt.Errorf("%q is too large", s)
	}
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, fmt.Errorf("%q is not a decimal", s)
	}
	return r, nil
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// pow10 returns 10^n as a rational, for any integer n.
func pow10(n int) *big.Rat {
	p := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(abs(n))), nil)
	if n < 0 {
		return new(big.Rat).SetFrac(big.NewInt(1), p)
	}
	return new(big.Rat).SetInt(p)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// roundHalfEven rounds r to the nearest integer, a tie to the even neighbour (banker's rounding,
// symmetric for negative values). ok is false when the result does not fit an int64.
func roundHalfEven(r *big.Rat) (v int64, ok bool) {
	num, den := r.Num(), r.Denom() // den > 0
	q, rem := new(big.Int).QuoRem(num, den, new(big.Int))
	twice := new(big.Int).Abs(rem)
	twice.Lsh(twice, 1)
	if c := twice.Cmp(den); c > 0 || (c == 0 && q.Bit(0) == 1) {
		if num.Sign() < 0 {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	if !q.IsInt64() {
		return 0, false
	}
	return q.Int64(), true
}

func add(a, b int64) (int64, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, false
	}
	return s, true
}
