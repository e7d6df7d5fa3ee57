package label

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Transcription is free-text transcription (of a scan, a recording, a sign): the answer is
// {"text":"..."}.
type Transcription struct{}

// TranscriptionName is the spec value for transcription.
const TranscriptionName = "transcription"

// MaxTranscriptionLength is the longest text one answer may hold, in Unicode code points.
const MaxTranscriptionLength = 10000

func init() { Register(Transcription{}) }

func (Transcription) Name() string { return TranscriptionName }

func (Transcription) CheckTaxonomy(taxonomy []string) error { return checkClasses(taxonomy) }

func (Transcription) Validate(a Answer, item Item) error {
	// The JSON decoder would silently replace invalid bytes with U+FFFD: refuse them first.
	if !utf8.Valid(a) {
		return fmt.Errorf("text: is not valid UTF-8")
	}
	if err := checkTop(a, "object", `a JSON object {"text": "..."}`); err != nil {
		return err
	}
	var in struct {
		Text *string `json:"text"`
	}
	if err := decodeStrict(a, &in, "answer"); err != nil {
		return err
	}
	if in.Text == nil {
		return fmt.Errorf("text: is required")
	}
	if n := utf8.RuneCountInString(*in.Text); n > MaxTranscriptionLength {
		return fmt.Errorf("text: at most %d characters, got %d", MaxTranscriptionLength, n)
	}
	if strings.TrimSpace(*in.Text) == "" {
		return fmt.Errorf("text: must not be empty or only whitespace")
	}
	return nil
}

// Agreement is one minus the Levenshtein distance between the normalised texts (see
// normaliseTranscription) over the longer one's length, in code points: 1 for the same text,
// 0 for texts with nothing in common. Two empty texts agree fully.
func (Transcription) Agreement(a, b Answer) float64 {
	x, errA := parseTranscription(a)
	y, errB := parseTranscription(b)
	if errA != nil || errB != nil {
		return 0
	}
	return textAgreement(x, y)
}

func textAgreement(x, y string) float64 {
	rx := []rune(normaliseTranscription(x))
	ry := []rune(normaliseTranscription(y))
	longest := max(len(rx), len(ry))
	if longest == 0 {
		return 1
	}
	return 1 - float64(Levenshtein(rx, ry))/float64(longest)
}

// normaliseTranscription makes texts comparable: it trims them, collapses each run of whitespace
// to one space and lower-cases them. It does not apply Unicode normalisation (NFC), which the
// standard library lacks: a precomposed "é" and "e" + combining accent still differ.
func normaliseTranscription(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range strings.TrimSpace(s) {
		if unicode.IsSpace(r) {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	return strings.ToLower(b.String())
}

// Levenshtein is the edit distance between a and b: the fewest insertions, deletions and
// substitutions of single runes turning a into b. It takes O(len(a)·len(b)) time and keeps two
// rows of the table, each as long as the shorter input.
func Levenshtein(a, b []rune) int {
	if len(a) < len(b) {
		a, b = b, a // b is the shorter: rows have len(b)+1 cells
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// DefaultThreshold is 0.9: about one character in ten may differ once case and spacing are set
// aside, which tolerates a typo or two in a sentence while a different word in a short text fails.
func (Transcription) DefaultThreshold() float64 { return 0.9 }

// Consolidate delivers the first answer's text as written (in its canonical form): texts that
// agree are not merged character by character, and where reviewers correct a text, theirs wins.
func (t Transcription) Consolidate(answers []Answer) Answer {
	if len(answers) == 0 {
		return nil
	}
	return t.Canonical(answers[0])
}

// Canonical trims the text and stores it as compact JSON.
func (Transcription) Canonical(a Answer) Answer {
	s, err := parseTranscription(a)
	if err != nil {
		return a
	}
	return marshalAnswer(struct {
		Text string `json:"text"`
	}{strings.TrimSpace(s)})
}

func parseTranscription(a Answer) (string, error) {
	var in struct {
		Text *string `json:"text"`
	}
	if err := json.Unmarshal(a, &in); err != nil {
		return "", err
	}
	if in.Text == nil {
		return "", fmt.Errorf("no text")
	}
	return *in.Text, nil
}
