package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client acts for one person through the gateway, with their own token. The CLI's finance and
// ops commands use it, so that they hold no key that could vouch for anyone else.
type Client struct {
	BaseURL string
	Token   string
	HTTP    *http.Client
}

// NewClient returns a client of the gateway at baseURL acting with token.
func NewClient(baseURL, token string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token, HTTP: &http.Client{Timeout: 60 * time.Second}}
}

// APIError is an error answer of the gateway.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string { return e.Message + " (" + e.Code + ")" }

// NoAnswerError is a request sent to the gateway whose answer never came back: the connection
// dropped or timed out. The gateway may have acted on it.
type NoAnswerError struct {
	URL string
	Err error
}

func (e *NoAnswerError) Error() string {
	return "the gateway at " + e.URL + " did not answer: " + e.Err.Error()
}

func (e *NoAnswerError) Unwrap() error { return e.Err }

// OutcomeUnknown reports an error after which an action may or may not have taken effect: its
// answer was lost, or the gateway answered 5xx (something behind it failed or did not answer in
// time, possibly after the action was done). Refusals (4xx) and errors before sending are known
// outcomes: nothing happened.
func OutcomeUnknown(err error) bool {
	var noAnswer *NoAnswerError
	var api *APIError
	return errors.As(err, &noAnswer) || (errors.As(err, &api) && api.Status >= 500)
}

// Approve approves a month's payroll.
func (c *Client) Approve(ctx context.Context, month, note string) (PayrollAnswer, error) {
	var out PayrollAnswer
	return out, c.post(ctx, "/v1/payroll/"+url.PathEscape(month)+"/approve", ApproveBody{Note: note}, &out)
}

// Hold holds a person's payout for the month.
func (c *Client) Hold(ctx context.Context, month, person, reason string) (PayrollAnswer, error) {
	var out PayrollAnswer
	return out, c.post(ctx, "/v1/payroll/"+url.PathEscape(month)+"/holds", HoldBody{Person: person, Reason: reason}, &out)
}

// Release releases a held payout.
func (c *Client) Release(ctx context.Context, month, person string) (PayrollAnswer, error) {
	var out PayrollAnswer
	return out, c.post(ctx, "/v1/payroll/"+url.PathEscape(month)+"/holds/"+url.PathEscape(person)+"/release", struct{}{}, &out)
}

// Reject sets a person's work aside from pay.
func (c *Client) Reject(ctx context.Context, b RejectBody) (RejectionAnswer, error) {
	var out RejectionAnswer
	return out, c.post(ctx, "/v1/rejections", b, &out)
}

// Reverse reverses a rejection.
func (c *Client) Reverse(ctx context.Context, id, note string) (RejectionAnswer, error) {
	var out RejectionAnswer
	return out, c.post(ctx, "/v1/rejections/"+url.PathEscape(id)+"/reverse", ReverseBody{Note: note}, &out)
}

// Cancel stops a project: no more chunks start.
func (c *Client) Cancel(ctx context.Context, project, reason string) (CancelAnswer, error) {
	var out CancelAnswer
	return out, c.post(ctx, "/v1/projects/"+url.PathEscape(project)+"/cancel", CancelBody{Reason: reason}, &out)
}

// Launch starts a project from its spec file's content.
func (c *Client) Launch(ctx context.Context, file string, spec []byte) (LaunchAnswer, error) {
	var out LaunchAnswer
	req, err := c.request(ctx, "/v1/projects", "application/yaml", bytes.NewReader(spec))
	if err != nil {
		return out, err
	}
	req.Header.Set("X-Spec-File", file)
	return out, c.do(req, &out)
}

func (c *Client) post(ctx context.Context, path string, body, out any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := c.request(ctx, path, "application/json", bytes.NewReader(data))
	if err != nil {
		return err
	}
	return c.do(req, out)
}

func (c *Client) request(ctx context.Context, path, contentType string, body io.Reader) (*http.Request, error) {
	if c.Token == "" {
		return nil, fmt.Errorf("no token: set LABELFLOW_TOKEN to your own token (`labelflow workforce token issue` gives one)")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	req.Header.Set("Content-Type", contentType)
	return req, nil
}

func (c *Client) do(req *http.Request, out any) error {
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return &NoAnswerError{URL: c.BaseURL, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return &NoAnswerError{URL: c.BaseURL, Err: err}
	}
	if resp.StatusCode >= 300 {
		var e ErrorBody
		if json.Unmarshal(data, &e) != nil || e.Error.Message == "" {
			return &APIError{Status: resp.StatusCode, Code: "http", Message: fmt.Sprintf("the gateway answered %s", resp.Status)}
		}
		return &APIError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
	}
	return json.Unmarshal(data, out)
}
