//go:build tools

// Package tools records the CNI plugins the e2e suite's real node uses as dependencies of this
// wrapper module, so that `go mod tidy` keeps go.sum complete for building them.
package tools

import (
	_ "github.com/containernetworking/plugins/plugins/ipam/host-local"
	_ "github.com/containernetworking/plugins/plugins/main/bridge"
	_ "github.com/containernetworking/plugins/plugins/main/loopback"
	_ "github.com/containernetworking/plugins/plugins/meta/portmap"
)
