// The pod sandbox ("pause") image of the e2e suite's real node: containerd starts one per pod to
// hold its namespaces. It sleeps until SIGTERM or SIGINT and exits 0. Built statically
// (CGO_ENABLED=0) by scripts/install-node-tools.sh, so the image holds this binary and nothing else.
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	<-signals
}
