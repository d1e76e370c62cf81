package client

import (
	"context"
	"errors"
	"fmt"
	"strings"

	protov1 "github.com/golang/protobuf/proto"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/virthost/virthost/clients/go/virthostv1"
)

// Error is a failed call: its gRPC code and message, and what the agent
// put in the google.rpc.Status details. Every error of a Client's calls is
// an *Error; it works with status.FromError and status.Code too.
type Error struct {
	// Code is the gRPC status code, e.g. codes.NotFound.
	Code codes.Code
	// Message is the agent's message.
	Message string
	// Libvirt is libvirt's error when the failure came from libvirt
	// (virthost.v1.LibvirtErrorDetail), else nil.
	Libvirt *virthostv1.LibvirtErrorDetail
	// Info is the google.rpc.ErrorInfo detail (domain "libvirt.org",
	// reason e.g. "VIR_ERR_NO_NETWORK"), else nil.
	Info *errdetails.ErrorInfo

	err error
}

func (e *Error) Error() string {
	if e.Libvirt != nil && e.Info != nil && e.Info.Reason != "" {
		return fmt.Sprintf("virthost: %s: %s (%s)", e.Code, e.Message, e.Info.Reason)
	}
	return fmt.Sprintf("virthost: %s: %s", e.Code, e.Message)
}

// Unwrap returns the transport's original error.
func (e *Error) Unwrap() error { return e.err }

// GRPCStatus makes status.FromError and status.Code see the call's status.
func (e *Error) GRPCStatus() *status.Status {
	if e.err != nil {
		if st, ok := status.FromError(e.err); ok {
			return st
		}
	}
	return status.New(e.Code, e.Message)
}

// wrapError turns a call's error into an *Error (nil stays nil, an *Error stays itself).
func wrapError(err error) error {
	if err == nil {
		return nil
	}
	var typed *Error
	if errors.As(err, &typed) {
		return err
	}
	switch err {
	case context.DeadlineExceeded:
		return &Error{Code: codes.DeadlineExceeded, Message: err.Error(), err: err}
	case context.Canceled:
		return &Error{Code: codes.Canceled, Message: err.Error(), err: err}
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	e := &Error{Code: st.Code(), Message: st.Message(), err: err}
	// By type URL and bytes, so that this works whichever
	// github.com/golang/protobuf (v1.3 or v1.5) grpc-go was built with.
	for _, detail := range st.Proto().GetDetails() {
		url := detail.GetTypeUrl()
		switch url[strings.LastIndex(url, "/")+1:] {
		case "virthost.v1.LibvirtErrorDetail":
			libvirt := &virthostv1.LibvirtErrorDetail{}
			if proto.Unmarshal(detail.GetValue(), libvirt) == nil {
				e.Libvirt = libvirt
			}
		case "google.rpc.ErrorInfo":
			info := &errdetails.ErrorInfo{} // genproto's types are old-API messages
			if protov1.Unmarshal(detail.GetValue(), info) == nil {
				e.Info = info
			}
		}
	}
	return e
}

// Code is err's gRPC status code: codes.OK for nil, codes.Unknown for an
// error that is no status.
func Code(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	var typed *Error
	if errors.As(err, &typed) {
		return typed.Code
	}
	return status.Code(err)
}

// LibvirtDetail is libvirt's error behind err (code, domain, message), or
// nil when the failure did not come from libvirt.
func LibvirtDetail(err error) *virthostv1.LibvirtErrorDetail {
	var typed *Error
	if errors.As(wrapError(err), &typed) {
		return typed.Libvirt
	}
	return nil
}

// IsNotFound reports a missing object (NOT_FOUND), e.g. no such network.
func IsNotFound(err error) bool { return Code(err) == codes.NotFound }

// IsAlreadyExists reports a name already taken (ALREADY_EXISTS).
func IsAlreadyExists(err error) bool { return Code(err) == codes.AlreadyExists }

// IsPermissionDenied reports a call the caller's role does not allow (PERMISSION_DENIED).
func IsPermissionDenied(err error) bool { return Code(err) == codes.PermissionDenied }

// IsInvalidArgument reports a request the agent refused as malformed (INVALID_ARGUMENT).
func IsInvalidArgument(err error) bool { return Code(err) == codes.InvalidArgument }

// IsFailedPrecondition reports an object in the wrong state, e.g. starting
// a running network (FAILED_PRECONDITION).
func IsFailedPrecondition(err error) bool { return Code(err) == codes.FailedPrecondition }

// IsUnavailable reports an agent or libvirtd that cannot be reached (UNAVAILABLE).
func IsUnavailable(err error) bool { return Code(err) == codes.Unavailable }

// IsDeadlineExceeded reports a call that outlived its context's deadline.
func IsDeadlineExceeded(err error) bool { return Code(err) == codes.DeadlineExceeded }
