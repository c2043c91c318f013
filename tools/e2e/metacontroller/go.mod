module prometheus-cluster-controller/tools/e2e/metacontroller

go 1.26.0

replace metacontroller => github.com/metacontroller/metacontroller v0.0.0-20260813213314-76b818bdc67b
