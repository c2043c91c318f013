//go:build tools

// Package tools records the metacontroller command as a dependency of this wrapper module so that
// `go mod tidy` keeps go.sum complete for building it.
package tools

import _ "metacontroller/pkg/cmd/metacontroller"
