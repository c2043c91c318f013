// The pause image's program (main.go); no dependencies.
module prometheus-cluster-controller/images/pause

go 1.26.0
