"""Generated protobuf and grpcio modules for virthost.v1 (scripts/generate.sh)."""
