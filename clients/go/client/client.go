// Package client is a thin client for virthostd, the libvirt host agent:
// one Dial for its gRPC socket or its ttrpc socket, the generated service
// clients of package virthostv1, typed errors that carry libvirt's error
// (IsNotFound, LibvirtDetail), request ids, and an event watch that resumes
// where it stopped after a disconnect or an agent restart (Watch).
//
//	c, err := client.Dial("/run/virthost/virthost.sock")
//	if err != nil { ... }
//	defer c.Close()
//	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
//	defer cancel()
//	list, err := c.Networks.ListNetworks(ctx, &virthostv1.ListNetworksRequest{})
//
// Deadlines come from the context, as in any grpc-go call.
package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/containerd/ttrpc"
	"google.golang.org/grpc"
	"google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"

	"github.com/virthost/virthost/clients/go/virthostv1"
)

// DefaultSocket is where the Debian package's agent listens.
const DefaultSocket = "/run/virthost/virthost.sock"

// RequestIDKey is the metadata key that carries a call's request id.
const RequestIDKey = "virthost-request-id"

// Transport is the wire protocol of the socket Dial connects to.
type Transport int

const (
	// GRPC is HTTP/2 gRPC, the agent's main socket: every call, streams included.
	GRPC Transport = iota
	// TTRPC is containerd's ttrpc, the agent's --ttrpc-socket: unary calls
	// only (Debian's ttrpc 1.1.1 has no streams).
	TTRPC
)

func (t Transport) String() string {
	switch t {
	case GRPC:
		return "grpc"
	case TTRPC:
		return "ttrpc"
	}
	return fmt.Sprintf("Transport(%d)", int(t))
}

// Option configures Dial.
type Option func(*options)

type options struct {
	transport   Transport
	dialTimeout time.Duration
	requestIDs  func() string
}

// WithTransport chooses the wire protocol (GRPC by default).
func WithTransport(t Transport) Option { return func(o *options) { o.transport = t } }

// WithDialTimeout bounds how long Dial waits for the socket to accept (5 s by default).
func WithDialTimeout(d time.Duration) Option { return func(o *options) { o.dialTimeout = d } }

// WithRequestIDs gives every call that has no request id of its own (see
// WithRequestID) one from next, sent as metadata "virthost-request-id".
func WithRequestIDs(next func() string) Option { return func(o *options) { o.requestIDs = next } }

type requestIDKey struct{}

// WithRequestID returns a context whose calls carry request id id (metadata
// "virthost-request-id"), so that the agent's logs and audit lines of a call
// can be matched with the caller's.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id WithRequestID put in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// Client is a connection to one agent with a client for each service.
// Its methods are the generated ones of package virthostv1: pass a context
// with a deadline, and inspect errors with IsNotFound, LibvirtDetail, ...
// (every error they return is an *Error).
type Client struct {
	Host         virthostv1.HostServiceClient
	Domains      virthostv1.DomainServiceClient
	Networks     virthostv1.NetworkServiceClient
	HostNetworks virthostv1.HostNetworkServiceClient
	Storage      virthostv1.StorageServiceClient
	GuestAgent   virthostv1.GuestAgentServiceClient
	Snapshots    virthostv1.SnapshotServiceClient
	Events       virthostv1.EventServiceClient
	Operations   virthostv1.OperationServiceClient
	// Health is the standard grpc.health.v1 service.
	Health grpc_health_v1.HealthClient

	socketPath string
	transport  Transport
	conn       grpc.ClientConnInterface
	close      func() error
}

// Dial connects to the agent's socket at socketPath ("" means
// $VIRTHOST_SOCKET, else DefaultSocket). The connection is made at once, so
// a missing socket or an agent that does not listen fails here.
func Dial(socketPath string, opts ...Option) (*Client, error) {
	o := options{dialTimeout: 5 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	if socketPath == "" {
		socketPath = os.Getenv("VIRTHOST_SOCKET")
	}
	if socketPath == "" {
		socketPath = DefaultSocket
	}
	if o.dialTimeout <= 0 {
		return nil, errors.New("virthost: WithDialTimeout needs a positive duration")
	}
	c := &Client{socketPath: socketPath, transport: o.transport}
	switch o.transport {
	case GRPC:
		ctx, cancel := context.WithTimeout(context.Background(), o.dialTimeout)
		defer cancel()
		conn, err := grpc.DialContext(ctx, "passthrough:///localhost",
			grpc.WithInsecure(), grpc.WithBlock(), grpc.FailOnNonTempDialError(true),
			grpc.WithDefaultCallOptions(grpc.ForceCodec(codec{})),
			grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "unix", socketPath)
			}),
			grpc.WithChainUnaryInterceptor(unaryInterceptor(o.requestIDs)),
			grpc.WithChainStreamInterceptor(streamInterceptor(o.requestIDs)))
		if err != nil {
			return nil, fmt.Errorf("virthost: cannot connect to %s over gRPC: %w", socketPath, err)
		}
		c.conn, c.close = conn, conn.Close
	case TTRPC:
		raw, err := net.DialTimeout("unix", socketPath, o.dialTimeout)
		if err != nil {
			return nil, fmt.Errorf("virthost: cannot connect to %s over ttrpc: %w", socketPath, err)
		}
		t := ttrpc.NewClient(raw)
		c.conn, c.close = &ttrpcConn{client: t, requestIDs: o.requestIDs}, t.Close
	default:
		return nil, fmt.Errorf("virthost: unknown transport %v", o.transport)
	}
	c.Host = virthostv1.NewHostServiceClient(c.conn)
	c.Domains = virthostv1.NewDomainServiceClient(c.conn)
	c.Networks = virthostv1.NewNetworkServiceClient(c.conn)
	c.HostNetworks = virthostv1.NewHostNetworkServiceClient(c.conn)
	c.Storage = virthostv1.NewStorageServiceClient(c.conn)
	c.GuestAgent = virthostv1.NewGuestAgentServiceClient(c.conn)
	c.Snapshots = virthostv1.NewSnapshotServiceClient(c.conn)
	c.Events = virthostv1.NewEventServiceClient(c.conn)
	c.Operations = virthostv1.NewOperationServiceClient(c.conn)
	c.Health = grpc_health_v1.NewHealthClient(c.conn)
	return c, nil
}

// Conn is the underlying connection, for other generated clients.
func (c *Client) Conn() grpc.ClientConnInterface { return c.conn }

// SocketPath is the socket the client dialled.
func (c *Client) SocketPath() string { return c.socketPath }

// Transport is the wire protocol of the connection.
func (c *Client) Transport() Transport { return c.transport }

// Close closes the connection; calls in flight fail.
func (c *Client) Close() error { return c.close() }

// requestID is the id a call carries: the context's, else a generated one.
func requestID(ctx context.Context, next func() string) string {
	if id := RequestID(ctx); id != "" {
		return id
	}
	if next != nil {
		return next()
	}
	return ""
}

func withOutgoingRequestID(ctx context.Context, next func() string) context.Context {
	if id := requestID(ctx, next); id != "" {
		return metadata.AppendToOutgoingContext(ctx, RequestIDKey, id)
	}
	return ctx
}

func unaryInterceptor(next func() string) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply interface{}, cc *grpc.ClientConn,
		invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		return wrapError(invoker(withOutgoingRequestID(ctx, next), method, req, reply, cc, opts...))
	}
}

func streamInterceptor(next func() string) grpc.StreamClientInterceptor {
	return func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string,
		streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		stream, err := streamer(withOutgoingRequestID(ctx, next), desc, cc, method, opts...)
		if err != nil {
			return nil, wrapError(err)
		}
		return errorStream{stream}, nil
	}
}

// errorStream turns a stream's status errors into *Error too.
type errorStream struct{ grpc.ClientStream }

func (s errorStream) RecvMsg(m interface{}) error { return wrapError(s.ClientStream.RecvMsg(m)) }
func (s errorStream) SendMsg(m interface{}) error { return wrapError(s.ClientStream.SendMsg(m)) }
