//go:build tools

// Package tools records the prometheus-operator command as a dependency of this wrapper module so
// that `go mod tidy` keeps go.sum complete for building it.
package tools

import _ "github.com/prometheus-operator/prometheus-operator/cmd/operator"
