package client

import (
	"context"
	"errors"
	"io"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/virthost/virthost/clients/go/virthostv1"
)

// MaxWatchBackoff is the longest pause Watch makes between reconnects.
const MaxWatchBackoff = 5 * time.Second

// Watch streams the agent's events to handle, in order, until ctx ends or
// handle returns an error (which Watch then returns).
//
// When the stream breaks (the agent stopped or restarted, the socket went
// away) Watch reconnects with a growing pause (0.1 s doubling to
// MaxWatchBackoff) and asks for what came after the last event it passed on
// (WatchRequest.since_sequence and since_epoch), so no buffered event is
// lost or repeated. When the agent restarted or no longer holds those
// events, the first event after the reconnect is a gap (kind
// EVENT_KIND_SYSTEM, type "gap", gap_from set): list what you track again.
//
// request selects kinds and a name as for EventService.Watch; its since
// fields, when set, say where to start. Watch needs the gRPC transport.
func (c *Client) Watch(ctx context.Context, request *virthostv1.WatchRequest, handle func(*virthostv1.Event) error) error {
	if handle == nil {
		return errors.New("virthost: Watch needs a handler")
	}
	if c.transport != GRPC {
		return &Error{Code: codes.Unimplemented, Message: "Watch is a streaming call: it needs the gRPC socket"}
	}
	next := &virthostv1.WatchRequest{}
	if request != nil {
		next = proto.Clone(request).(*virthostv1.WatchRequest)
	}
	backoff := 100 * time.Millisecond
	for {
		err := c.watchOnce(ctx, next, handle, func() { backoff = 100 * time.Millisecond })
		var handlerErr handlerError
		if errors.As(err, &handlerErr) {
			return handlerErr.err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !resumable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(backoff):
		}
		if backoff *= 2; backoff > MaxWatchBackoff {
			backoff = MaxWatchBackoff
		}
	}
}

type handlerError struct{ err error }

func (h handlerError) Error() string { return h.err.Error() }

// watchOnce runs one stream; next's since fields follow every event seen.
func (c *Client) watchOnce(ctx context.Context, next *virthostv1.WatchRequest, handle func(*virthostv1.Event) error,
	received func()) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// WaitForReady: while the agent restarts, wait for its socket instead of failing at once.
	stream, err := c.Events.Watch(ctx, next, grpc.WaitForReady(true))
	if err != nil {
		return err
	}
	for {
		event, err := stream.Recv()
		if err != nil {
			return err
		}
		received()
		if event.GetEpoch() != 0 {
			next.SinceEpoch = event.GetEpoch()
		}
		next.SinceSequence = event.GetSequence()
		if err := handle(event); err != nil {
			return handlerError{err}
		}
	}
}

// resumable reports a broken stream worth opening again.
func resumable(err error) bool {
	if err == io.EOF { // the agent ended the stream: it is stopping
		return true
	}
	switch Code(err) {
	case codes.Unavailable, codes.Aborted, codes.Internal, codes.Unknown, codes.ResourceExhausted:
		return true
	}
	return false
}
