//go:build tools

// Package tools records the Kubernetes commands the e2e control plane runs as dependencies of this
// wrapper module, so that `go mod tidy` keeps go.sum complete for building them.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
