#!/usr/bin/env bash
# Regenerates Sources/VirtHostAPI from proto/ with protoc and the two Swift
# plugins, built from the package mirror. The output is committed; CI never
# runs this.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v protoc >/dev/null || { echo "generate: protoc missing (apt-get install protobuf-compiler libprotobuf-dev)" >&2; exit 1; }
[ -f /usr/include/google/protobuf/timestamp.proto ] || { echo "generate: well-known types missing (apt-get install libprotobuf-dev)" >&2; exit 1; }

# The plugins are executable products of our own dependencies, so they share
# the package's build folder and its compiled swift-protobuf.
swift build -c release --product protoc-gen-swift >/dev/null
swift build -c release --product protoc-gen-grpc-swift-2 >/dev/null
bin=$(swift build -c release --show-bin-path)

out=Sources/VirtHostAPI
find "$out" -name '*.swift' -delete
protos=$(cd proto && find virthost -name '*.proto' | sort)
(cd proto && protoc -I . -I /usr/include \
  --plugin=protoc-gen-swift="$bin/protoc-gen-swift" \
  --plugin=protoc-gen-grpc-swift-2="$bin/protoc-gen-grpc-swift-2" \
  --swift_out=../"$out" --swift_opt=Visibility=Public,FileNaming=PathToUnderscores \
  --grpc-swift-2_out=../"$out" --grpc-swift-2_opt=Visibility=Public,FileNaming=PathToUnderscores \
  $protos)
# A descriptor set for tools that take one instead of server reflection.
(cd proto && protoc -I . -I /usr/include --include_imports --descriptor_set_out=virthost.protoset $protos)
echo "generate: $(ls "$out"/*.swift | wc -l) files in $out"
