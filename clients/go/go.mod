module github.com/virthost/virthost/clients/go

go 1.19

// The versions Debian 12 ships (golang-google-grpc-dev, golang-google-protobuf-dev,
// golang-github-golang-protobuf-1-5-dev, golang-github-containerd-ttrpc-dev,
// golang-google-genproto-dev), against which CI builds in GOPATH mode, offline
// (see build.sh). In module mode `go mod tidy` adds the indirect ones (genproto) and go.sum.
require (
	github.com/containerd/ttrpc v1.1.1
	github.com/gogo/protobuf v1.3.2
	github.com/golang/protobuf v1.5.2
	google.golang.org/grpc v1.33.3
	google.golang.org/protobuf v1.28.1
)
