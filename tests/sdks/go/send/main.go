// Send events with sentry-go: `send DSN TIMESTAMP`, TIMESTAMP (RFC 3339)
// being the moment every event claims to have happened. Print one JSON
// object on stdout: the ids captured, and every request the SDK made (its
// path and the status answered).
//
// Built by tests/test_sdk_go.py in GOPATH mode against Debian's sentry-go
// (golang-github-getsentry-sentry-go-dev); nothing is downloaded.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/getsentry/sentry-go"
)

var errDiskFull = errors.New("disk full")

func writeRow(id int) error {
	return fmt.Errorf("write row %d: %w", id, errDiskFull)
}

func saveOrder(id int) error {
	if err := writeRow(id); err != nil {
		return fmt.Errorf("save order %d: %w", id, err)
	}
	return nil
}

// request is what recorder saw of one request of the SDK.
type request struct {
	Path   string `json:"path"`
	Status int    `json:"status"`
}

// recorder is the SDK's own HTTP transport, recording each request.
type recorder struct {
	mu       sync.Mutex
	requests []request
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	response, err := http.DefaultTransport.RoundTrip(req)
	status := 0
	if err == nil {
		status = response.StatusCode
	}
	r.mu.Lock()
	r.requests = append(r.requests, request{req.URL.Path, status})
	r.mu.Unlock()
	return response, err
}

func main() {
	backdated, err := time.Parse(time.RFC3339, os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bad timestamp:", err)
		os.Exit(2)
	}
	requests := &recorder{}
	err = sentry.Init(sentry.ClientOptions{
		Dsn:              os.Args[1],
		HTTPTransport:    requests,
		Release:          "checkout@3.1.4",
		Environment:      "staging",
		ServerName:       "go-web-01",
		AttachStacktrace: true,
		TracesSampleRate: 1.0,
		BeforeSend: func(event *sentry.Event, hint *sentry.EventHint) *sentry.Event {
			event.Timestamp = backdated
			return event
		},
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "sentry.Init:", err)
		os.Exit(1)
	}
	sentry.ConfigureScope(func(scope *sentry.Scope) {
		scope.SetTag("tenant", "acme")
		scope.SetUser(sentry.User{ID: "u-7", Email: "jane@example.com", Username: "jane"})
	})
	sentry.AddBreadcrumb(&sentry.Breadcrumb{
		Category: "auth", Message: "user logged in", Level: sentry.LevelInfo,
	})

	// The error happens during a transaction (on a hub of its own, so the
	// message after it is outside). The transaction goes to the envelope
	// endpoint, the events to the store endpoint: it must not keep the
	// error beside it from being stored.
	ids := map[string]string{}
	hub := sentry.CurrentHub().Clone()
	ctx := sentry.SetHubOnContext(context.Background(), hub)
	span := sentry.StartSpan(ctx, "http.server", sentry.TransactionName("POST /orders"))
	ids["exception"] = string(*hub.CaptureException(saveOrder(1234)))
	span.Finish()

	sentry.WithScope(func(scope *sentry.Scope) {
		scope.SetLevel(sentry.LevelWarning)
		ids["message"] = string(*sentry.CaptureMessage("Payment gateway timed out"))
	})

	if !sentry.Flush(10 * time.Second) {
		fmt.Fprintln(os.Stderr, "sentry.Flush timed out")
		os.Exit(1)
	}
	requests.mu.Lock()
	defer requests.mu.Unlock()
	output, _ := json.Marshal(map[string]interface{}{
		"ids": ids, "requests": requests.requests,
	})
	fmt.Println(string(output))
}
