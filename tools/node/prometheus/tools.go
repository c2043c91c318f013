//go:build tools

// Package tools records the prometheus command as a dependency of this wrapper module so that
// `go mod tidy` keeps go.sum complete for building it.
package tools

import _ "github.com/prometheus/prometheus/cmd/prometheus"
