package client

import (
	"fmt"

	protov1 "github.com/golang/protobuf/proto"
	"google.golang.org/grpc/encoding"
	"google.golang.org/protobuf/proto"
)

// codec marshals gRPC messages with google.golang.org/protobuf when they
// are messages of today's protoc-gen-go (package virthostv1), else with
// github.com/golang/protobuf (older generated code, e.g. Debian's
// grpc_health_v1 and genproto).
//
// Why: grpc-go 1.33's own codec goes through github.com/golang/protobuf,
// and Debian 12 builds grpc-go against its v1.3.5 (golang-github-golang-protobuf-1-3-dev),
// which cannot marshal messages with oneofs or proto3 optional fields of
// the new API. (Debian's v1.5 could, but then containerd's ttrpc 1.1.1,
// which decodes with gogo/protobuf, panics on any error with details.)
type codec struct{}

var _ encoding.Codec = codec{}

func (codec) Name() string { return "proto" }

// String makes it a grpc.Codec too, for grpc.CustomCodec on a server.
func (codec) String() string { return "proto" }

func (codec) Marshal(v interface{}) ([]byte, error) {
	switch m := v.(type) {
	case proto.Message:
		return proto.Marshal(m)
	case protov1.Message:
		return protov1.Marshal(m)
	}
	return nil, fmt.Errorf("virthost: cannot marshal %T: not a protobuf message", v)
}

func (codec) Unmarshal(data []byte, v interface{}) error {
	switch m := v.(type) {
	case proto.Message:
		return proto.Unmarshal(data, m)
	case protov1.Message:
		return protov1.Unmarshal(data, m)
	}
	return fmt.Errorf("virthost: cannot unmarshal into %T: not a protobuf message", v)
}

// Codec is the codec Dial's gRPC connections use: pass it to grpc-go
// servers or connections of your own that carry virthostv1 messages
// (grpc.CustomCodec, grpc.ForceCodec) when they are built against Debian's
// github.com/golang/protobuf v1.3.
func Codec() encoding.Codec { return codec{} }
