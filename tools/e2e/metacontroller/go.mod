// Wrapper module pinning Metacontroller v4.17.2 for the e2e control plane.
//
// Metacontroller's go.mod declares the module path `metacontroller`, not its repository path, so
// it cannot be `go install`ed; this module requires it under its declared path and replaces that
// with the repository at the pseudo-version of the v4.17.2 commit, carrying over the replace pins
// of Metacontroller's own go.mod (a dependency's replaces are ignored).
// Built by scripts/install-e2e-tools.sh: go build -mod=readonly metacontroller/pkg/cmd/metacontroller
//
// NOT BUILDABLE on this project's machines, hence no go.sum: the Go module proxy they reach answers
//   $ GOFLAGS= go mod tidy      (in this directory)
//   go: github.com/metacontroller/metacontroller@v0.0.0-20260813213314-76b818bdc67b: reading
//   https://proxy.golang.org/github.com/metacontroller/metacontroller/@v/v0.0.0-20260813213314-76b818bdc67b.info:
//   403 Forbidden
//   	server response: This module version is not available.
// and the same 403 for @v/list, @latest and every other version of that module path. Where the
// module can be fetched, run `GOFLAGS= go mod tidy` here (check the replace pins against
// Metacontroller's go.mod at that commit) and commit go.sum; scripts/install-e2e-tools.sh then
// builds it. Until then the e2e harness takes METACONTROLLER_BIN.
module prometheus-cluster-controller/tools/e2e/metacontroller

go 1.26.0

require metacontroller v0.0.0-20260813213314-76b818bdc67b

replace metacontroller => github.com/metacontroller/metacontroller v0.0.0-20260813213314-76b818bdc67b

// Metacontroller v4.17.2's own replace pins.
replace (
	golang.org/x/net => golang.org/x/net v0.57.0
	k8s.io/apiextensions-apiserver => k8s.io/apiextensions-apiserver v0.36.3
	k8s.io/apimachinery => k8s.io/apimachinery v0.36.3
	k8s.io/client-go => k8s.io/client-go v0.36.3
)
